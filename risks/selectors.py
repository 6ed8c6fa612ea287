from django.db.models import Count

from risks.models import Asset, RiskMatrix


def matrix_of(agency) -> RiskMatrix | None:
    return RiskMatrix.objects.filter(agency=agency).first() if agency else None


def heatmap_counts(risks, kind: str) -> dict:
    """{(likelihood, impact): number of risks} for kind "inherent" or "residual", in one query."""
    likelihood, impact = f"{kind}_likelihood", f"{kind}_impact"
    rows = (risks.order_by().filter(**{f"{likelihood}__isnull": False, f"{impact}__isnull": False})
            .values(likelihood, impact).annotate(n=Count("pk", distinct=True)))
    return {(row[likelihood], row[impact]): row["n"] for row in rows}


def exposed_assets(agency, matrix, limit=10):
    """Assets whose Mosca margin against the central z is positive, worst first."""
    assets = [a for a in Asset.objects.filter(agency=agency) if a.exposure(matrix)["exposed"]]
    return sorted(assets, key=lambda a: a.exposure(matrix)["margin_central"], reverse=True)[:limit]
