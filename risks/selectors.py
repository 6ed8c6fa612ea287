from django.db.models import Count
from django.db.models.functions import Coalesce

from risks.models import Asset, RiskMatrix


def matrix_of(agency) -> RiskMatrix | None:
    return RiskMatrix.objects.filter(agency=agency).first() if agency else None


def with_current_rating(risks):
    """Annotates rated_likelihood and rated_impact: the current rating, or the inherent one while
    none is given (as Risk.rating and the register's "Current rating" column read it)."""
    return risks.annotate(rated_likelihood=Coalesce("current_likelihood", "inherent_likelihood"),
                          rated_impact=Coalesce("current_impact", "inherent_impact"))


HEATMAP_KINDS = ("inherent", "current", "residual")


def heatmap_counts(risks, kind: str) -> dict:
    """{(likelihood, impact): number of risks} for kind "inherent", "current" or "residual"."""
    return all_heatmap_counts(risks)[kind]


def all_heatmap_counts(risks) -> dict:
    """{kind: {(likelihood, impact): number of risks}} for the three heat maps, in one grouped
    query: GROUP BY the six rating columns (at most size⁶ groups, far fewer in practice), folded here.
    "current" is the current rating or, while none is given, the inherent one."""
    risks = risks.order_by()
    if risks.query.distinct or len(risks.query.alias_map) > 1:
        # A filter joined a to-many relation: count each risk once, without COUNT(DISTINCT) per cell.
        risks = risks.model._base_manager.filter(pk__in=risks.values("pk"))
    rows = (with_current_rating(risks)
            .values_list("inherent_likelihood", "inherent_impact", "rated_likelihood", "rated_impact",
                         "residual_likelihood", "residual_impact")
            .annotate(n=Count("*")).order_by())
    counts = {kind: {} for kind in HEATMAP_KINDS}
    for inherent_l, inherent_i, current_l, current_i, residual_l, residual_i, n in rows:
        for kind, cell in (("inherent", (inherent_l, inherent_i)), ("current", (current_l, current_i)),
                           ("residual", (residual_l, residual_i))):
            if None not in cell:
                counts[kind][cell] = counts[kind].get(cell, 0) + n
    return counts


def exposed_assets(agency, matrix, limit=10):
    """Assets whose Mosca margin against the central z is positive, worst first."""
    assets = [a for a in Asset.objects.filter(agency=agency) if a.exposure(matrix)["exposed"]]
    return sorted(assets, key=lambda a: a.exposure(matrix)["margin_central"], reverse=True)[:limit]
