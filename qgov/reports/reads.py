"""Reads that several apps' section builders share: the evidence files a section relies on and how a
person is named in a table."""

from collections.abc import Callable, Iterable

from django.db.models import Q, QuerySet

from qgov.reports.document import EvidenceReference, ReportContext


def person_label(user) -> str | None:
    """A user as report tables name them (their username, as the lists' exports do); None for nobody."""
    return user.get_username() if user is not None else None


def evidence_references(*, context: ReportContext,
                        sources: Iterable[tuple[QuerySet, Callable[[object], str]]]) -> list[EvidenceReference]:
    """The evidence files attached to the records of each source `(queryset, label)` that were held
    on the as-of instant (uploaded by then, not withdrawn by then), labelled `label(record)`.

    Two queries per source whatever the numbers: the files (the records are a subquery), then the
    records that have files, loaded as the queryset loads them (give it the select_related its label
    reads). Sorted by record label, then upload time."""
    from django.contrib.contenttypes.models import ContentType

    from qgov.models import EvidenceFile

    references = []
    for queryset, label in sources:
        content_type = ContentType.objects.get_for_model(queryset.model)
        files = list(EvidenceFile.objects.filter(
            agency=context.agency, content_type=content_type, object_id__in=queryset.values("pk"),
            uploaded_at__lte=context.as_of,
        ).filter(Q(withdrawn_at__isnull=True) | Q(withdrawn_at__gt=context.as_of))
            .only("pk", "object_id", "file_name", "sha256", "uploaded_at").order_by("uploaded_at", "pk"))
        if not files:
            continue
        records = {record.pk: record for record in queryset.filter(pk__in={file.object_id for file in files})}
        references += [EvidenceReference(sha256=file.sha256, name=file.file_name,
                                         record=label(records[file.object_id]), uploaded=file.uploaded_at)
                       for file in files if file.object_id in records]
    return sorted(references, key=lambda item: (item.record, item.uploaded or context.as_of, item.name))
