"""Helpers of the write services that keep a write to a few queries: many-to-many rows written
directly (the change's audit event already knows them), validation of what changed, and the
related objects the caller already holds carried over to the saved record for its response."""

from django.db import models
from django.db.models import QuerySet

from qgov.audit import audited_m2m, m2m_ids


def forward_relations(model) -> list[str]:
    """Foreign keys and one-to-ones of the model, to read with the locked row in one query."""
    return [f.name for f in model._meta.concrete_fields if f.is_relation and (f.many_to_one or f.one_to_one)]


def validation_exclude(model, changed: set[str]) -> list[str]:
    """Fields full_clean may skip on an update: unchanged relations and unique fields (each costs
    a query to validate) unless a constraint ties them to a changed field. Models with other
    constraints are validated whole."""
    groups = [set(group) for group in model._meta.unique_together]
    for constraint in model._meta.constraints:
        if not isinstance(constraint, models.UniqueConstraint) or not constraint.fields \
                or constraint.condition is not None or constraint.expressions:
            return []
        groups.append(set(constraint.fields))
    costly = {f.name for f in model._meta.concrete_fields if f.is_relation or f.unique} - {model._meta.pk.name}
    exclude = costly - changed
    for group in groups:
        if group & changed:
            exclude -= group
    return sorted(exclude)


def _ordered_cache(field, values):
    """The related objects in the order the related manager would read them, when `values` is an
    evaluated queryset in the related model's default ordering (API and form choices are)."""
    if not isinstance(values, QuerySet) or values.model is not field.related_model:
        return None
    query = values.query
    if query.order_by or query.extra_order_by or not query.default_ordering or values._result_cache is None:
        return None
    return list(values)


def prime_m2m(instance, name: str, objects: list):
    """Hold `objects` as the instance's prefetched `name` relation, as prefetch_related would."""
    cache = getattr(instance, "_prefetched_objects_cache", None)
    if cache is None:
        instance._prefetched_objects_cache = cache = {}
    cache.pop(name, None)
    queryset = getattr(instance, name).get_queryset()
    queryset._result_cache = list(objects)
    queryset._prefetch_done = True
    cache[name] = queryset


def m2m_write(instance, m2m: dict, current: dict) -> dict:
    """Set the instance's many-to-many relations to `m2m` ({name: objects or ids}), knowing their
    `current` ids; returns {name: ids now} (None where a custom through model was set through its
    manager and must be read again)."""
    written = {}
    model = type(instance)
    audited = {f.name for f in audited_m2m(model)}
    for name, values in m2m.items():
        field = model._meta.get_field(name)
        through = field.remote_field.through
        cache = getattr(instance, "_prefetched_objects_cache", {})
        cache.pop(name, None)
        if not through._meta.auto_created:
            getattr(instance, name).set(values)
            written[name] = None
            continue
        items = list(values)
        ids = {item.pk if isinstance(item, models.Model) else field.related_model._meta.pk.to_python(item)
               for item in items}
        before = set(current[name]) if name in current else set(m2m_ids(instance, [name]).get(name, ()))
        source = through._meta.get_field(field.m2m_field_name()).attname
        target = through._meta.get_field(field.m2m_reverse_field_name()).attname
        if before - ids:
            through._base_manager.filter(**{source: instance.pk, f"{target}__in": before - ids}).delete()
        if ids - before:
            through._base_manager.bulk_create(
                [through(**{source: instance.pk, target: pk}) for pk in sorted(ids - before)])
        ordered = _ordered_cache(field, values)
        if ordered is not None:
            prime_m2m(instance, name, ordered)
        if name in audited:
            written[name] = sorted(ids)
    return written


def carry_caches(source, target, *, skip=()):
    """Give `target` the many-to-many objects `source` (the caller's copy of the same version)
    prefetched, except the relations in `skip` (they were just written)."""
    for name, queryset in getattr(source, "_prefetched_objects_cache", {}).items():
        if name not in skip and name in {f.name for f in type(target)._meta.many_to_many}:
            prime_m2m(target, name, list(queryset))
