"""Read-only queries other pages use: quantum-vulnerable cryptography counted per supplier, device,
asset and register risk."""

from django.db.models import Count, Min, Q

from qgov.roles import Action

# What each grouping counts by: the component's own column, or the risks it is linked to.
GROUPINGS = {"supplier": "supplier_id", "device": "device_id", "asset": "asset_id", "risk": "risks"}


def vulnerable_counts(*, user, by: str, agency=None, ids=None) -> dict:
    """{supplier|device|asset|risk id: {"vulnerable": n, "components": n, "earliest_deadline": date|None}}
    of the components `user` may see, grouped by `by` ("supplier", "device", "asset" or "risk"); one
    query. `ids` limits it to those records (e.g. the rows of a page, or one detail page's record).
    `user=None` reads as the agency itself (a report's section), and then needs `agency`."""
    from procurement.models import Component

    if by not in GROUPINGS:
        raise ValueError(f"vulnerable_counts: by must be one of {', '.join(GROUPINGS)}, not {by!r}")
    if user is None and agency is None:
        raise ValueError("vulnerable_counts: without a user, say which agency's components to count")
    column = GROUPINGS[by]
    # One filter() call: on the risks (many-to-many) two would join the link table twice and count
    # each component once per linked risk.
    condition = {f"{column}__in": list(ids)} if ids is not None else {f"{column}__isnull": False}
    if agency is not None:
        condition["agency"] = agency
    components = (Component.objects.all() if user is None else Component.objects.restrict(user, Action.VIEW)
                  ).filter(**condition)
    rows = (components.order_by().values(column)
            .annotate(vulnerable=Count("pk", filter=Q(quantum_vulnerable=True)), components=Count("pk"),
                      earliest_deadline=Min("policy_deadline", filter=Q(quantum_vulnerable=True))))
    return {row[column]: {"vulnerable": row["vulnerable"], "components": row["components"],
                          "earliest_deadline": row["earliest_deadline"]} for row in rows}


def vulnerable_count(*, user, supplier=None, device=None, asset=None, risk=None) -> int:
    """How many quantum-vulnerable components one supplier, device, asset or risk has."""
    (by, record), = [(name, value) for name, value in (("supplier", supplier), ("device", device),
                                                       ("asset", asset), ("risk", risk)) if value is not None]
    return vulnerable_counts(user=user, by=by, ids=[record.pk]).get(record.pk, {}).get("vulnerable", 0)
