from dataclasses import dataclass

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
    query (heatmap_groups)."""
    return heatmap_groups(risks).counts


# The six stored rating columns, in the order of the covering index risk_heatmap_idx (agency first).
RATING_COLUMNS = ("inherent_likelihood", "inherent_impact", "current_likelihood", "current_impact",
                  "residual_likelihood", "residual_impact")


@dataclass(frozen=True)
class HeatmapGroups:
    counts: dict  # {kind: {(likelihood, impact): number of risks}}
    # The number of risks of the set when each was read once (no to-many join repeated one): the
    # list can show it instead of counting the same rows again. None otherwise.
    total: int | None


def heatmap_groups(risks) -> HeatmapGroups:
    """The three heat maps from one query: GROUP BY the six stored rating columns (at most size⁶
    groups, a few hundred in practice), folded here. Grouping by the stored columns in the order of
    the (agency, six ratings) index lets the database count while it walks the index, without
    sorting; grouping by the current rating's COALESCE would sort every row first (100,000 risks on
    SQLite: 20 ms against 90 ms). "current" is the current rating or, while none is given, the
    inherent one, as Risk.rating reads it."""
    risks = risks.order_by()
    query = risks.query
    joined = any(count for alias, count in query.alias_refcount.items() if alias != query.base_table)
    if query.distinct or joined:
        # A filter joined another table (maybe a to-many one): count each risk once, without
        # COUNT(DISTINCT) per cell.
        risks = risks.model._base_manager.filter(pk__in=risks.values("pk"))
    rows = risks.values_list(*RATING_COLUMNS).annotate(n=Count("*")).order_by()
    counts = {kind: {} for kind in HEATMAP_KINDS}
    inherent, current, residual = counts["inherent"], counts["current"], counts["residual"]
    total = 0
    for inherent_l, inherent_i, current_l, current_i, residual_l, residual_i, n in rows:
        total += n
        if inherent_l is not None and inherent_i is not None:
            inherent[inherent_l, inherent_i] = inherent.get((inherent_l, inherent_i), 0) + n
        cell = (inherent_l if current_l is None else current_l, inherent_i if current_i is None else current_i)
        if None not in cell:
            current[cell] = current.get(cell, 0) + n
        if residual_l is not None and residual_i is not None:
            residual[residual_l, residual_i] = residual.get((residual_l, residual_i), 0) + n
    return HeatmapGroups(counts=counts, total=None if query.distinct or joined else total)


def exposed_assets(agency, matrix, limit=10):
    """Assets whose Mosca margin against the central z is positive, worst first."""
    assets = [a for a in Asset.objects.filter(agency=agency) if a.exposure(matrix)["exposed"]]
    return sorted(assets, key=lambda a: a.exposure(matrix)["margin_central"], reverse=True)[:limit]
