"""Read-only queries other pages use: quantum-vulnerable cryptography counted per supplier, device
and asset."""

from django.db.models import Count, Min, Q

from qgov.roles import Action


def vulnerable_counts(*, user, by: str, agency=None, ids=None) -> dict:
    """{supplier|device|asset id: {"vulnerable": n, "components": n, "earliest_deadline": date|None}}
    of the components `user` may see, grouped by `by` ("supplier", "device" or "asset"); one query.
    `ids` limits it to those records (e.g. the rows of a page)."""
    from procurement.models import Component

    if by not in ("supplier", "device", "asset"):
        raise ValueError(f"vulnerable_counts: by must be supplier, device or asset, not {by!r}")
    components = Component.objects.restrict(user, Action.VIEW).filter(**{f"{by}__isnull": False})
    if agency is not None:
        components = components.filter(agency=agency)
    if ids is not None:
        components = components.filter(**{f"{by}_id__in": list(ids)})
    rows = (components.order_by().values(f"{by}_id")
            .annotate(vulnerable=Count("pk", filter=Q(quantum_vulnerable=True)), components=Count("pk"),
                      earliest_deadline=Min("policy_deadline", filter=Q(quantum_vulnerable=True))))
    return {row[f"{by}_id"]: {"vulnerable": row["vulnerable"], "components": row["components"],
                              "earliest_deadline": row["earliest_deadline"]} for row in rows}


def vulnerable_count(*, user, supplier=None, device=None, asset=None) -> int:
    """How many quantum-vulnerable components one supplier, device or asset has."""
    (by, record), = [(name, value) for name, value in (("supplier", supplier), ("device", device),
                                                       ("asset", asset)) if value is not None]
    return vulnerable_counts(user=user, by=by, ids=[record.pk]).get(record.pk, {}).get("vulnerable", 0)
