"""Import workflows: accept an upload as an ImportRun and queue it; run it (in a Celery task).

A run is all or nothing. Every row goes through the same write services as a form or the API
(object_create, or object_update when its natural key names an existing record), inside one
transaction; if any row has a problem, everything is rolled back and the run fails with the
row-by-row report, every problem of every row listed at once.
"""

import copy
import logging
from collections import Counter

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db import transaction
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext as _

from qgov.audit import held_chain_heads
from qgov.choices import ImportRunStatusChoices
from qgov.files import sha256_and_size
from qgov.imports.documents import document_importer_for, document_importer_named
from qgov.imports.parsers import FileProblem, parser_for, parser_named, supported_extensions
from qgov.imports.spec import HeaderProblem, spec_for
from qgov.models import Agency, ImportRun
from qgov.roles import Action
from qgov.runs import ProgressWriter, run_claimed
from qgov.services import object_create, object_update, require

logger = logging.getLogger(__name__)

FILE_ROW = 0  # the row number of problems with the file as a whole
PROGRESS_EVERY = 250  # rows between two progress writes
KEY_CHUNK = 1000  # natural keys per look-up query of existing records
MAX_REPORTED = 1000  # problems kept in a run's report; the failed-row count covers them all


def problem(row: int, field: str, message) -> dict:
    return {"row": row, "field": field, "message": str(message)}


class ImportFailed(Exception):
    def __init__(self, errors: list[dict], failed_rows: int = 0, processed: int = 0):
        self.errors = errors
        self.failed_rows = failed_rows
        self.processed = processed
        super().__init__(f"{len(errors)} problems")


# --- accepting an upload -----------------------------------------------------------------------


def import_agency(*, user, agency_id=None) -> Agency:
    """The agency an API import writes to: the one named, or the caller's only agency."""
    candidates = Agency.objects.restrict(user, Action.VIEW)
    if agency_id is not None:
        agency = candidates.filter(pk=agency_id).first()
        if agency is None:
            raise ValidationError({"agency": _("Unknown agency.")})
        return agency
    agencies = list(candidates[:2])
    if len(agencies) != 1:
        raise ValidationError({"agency": _("Name the agency to import into.")})
    return agencies[0]


def upload_problems(upload, model=None) -> list[str]:
    """What makes an upload unacceptable before it is even read: its format and its size."""
    document = document_importer_for(model) if model is not None else None
    if document is not None:
        return _document_upload_problems(document, upload)
    if parser_for(upload.name) is None:
        return [_("Upload a %(formats)s file.") % {"formats": _(" or ").join(supported_extensions())}]
    if upload.size > settings.QGOV_IMPORT_MAX_BYTES:
        return [_("The file is %(size)s; an import may be at most %(limit)s.") % {
            "size": filesizeformat(upload.size), "limit": filesizeformat(settings.QGOV_IMPORT_MAX_BYTES)}]
    if upload.size == 0:
        return [_("The file is empty.")]
    return parser_for(upload.name).upload_problems(upload, settings.QGOV_IMPORT_MAX_BYTES)


def _document_upload_problems(document, upload) -> list[str]:
    if not document.accepts(upload.name):
        return [_("Upload a %(label)s file (%(extensions)s).") % {
            "label": document.label, "extensions": _(" or ").join(document.extensions)}]
    if upload.size > settings.QGOV_IMPORT_MAX_BYTES:
        return [_("The file is %(size)s; an import may be at most %(limit)s.") % {
            "size": filesizeformat(upload.size), "limit": filesizeformat(settings.QGOV_IMPORT_MAX_BYTES)}]
    if upload.size == 0:
        return [_("The file is empty.")]
    return document.upload_problems(upload, settings.QGOV_IMPORT_MAX_BYTES)


def is_importable(model) -> bool:
    return spec_for(model) is not None or document_importer_for(model) is not None


@transaction.atomic
def import_run_create(*, user, agency, model, upload) -> ImportRun:
    """Keep the upload (privately) as a queued ImportRun and run it in the background once this
    transaction commits. Needs the add action on `model` in `agency`."""
    from qgov.imports.tasks import import_run_execute

    if not is_importable(model):
        raise ValidationError({"file": _("%(models)s cannot be imported.") % {
            "models": model._meta.verbose_name_plural}})
    require(user, agency.pk, Action.ADD, model)
    problems = upload_problems(upload, model)
    if problems:
        raise ValidationError({"file": problems})
    sha256, _size = sha256_and_size(upload)
    run = object_create(model=ImportRun, user=user, data={
        "agency": agency,
        "content_type": ContentType.objects.get_for_model(model),
        "file": upload,
        "file_name": upload.name[-255:],
        "sha256": sha256,
        "size": upload.size,
        "format": (document_importer_for(model) or parser_for(upload.name)).format,
    })
    transaction.on_commit(lambda: import_run_execute.delay(run.pk))
    return run


# --- running it ---------------------------------------------------------------------------------


def import_run_execute(*, run_id: int) -> ImportRun | None:
    """Run a queued import. A finished run is left as it is, and so is a run another worker is
    running right now; a run found running whose worker died starts again from the beginning,
    since its writes were rolled back."""
    with run_claimed(run_id) as claimed:
        if not claimed:
            return ImportRun.objects.filter(pk=run_id).first()
        return _execute(run_id)


def _execute(run_id: int) -> ImportRun | None:
    with transaction.atomic():
        run = (ImportRun.objects.select_for_update(of=("self",))
               .select_related("agency", "content_type", "requested_by").filter(pk=run_id).first())
        if run is None or run.is_finished:
            return run
        run.status, run.started, run.finished, run.rows_processed = (
            ImportRunStatusChoices.RUNNING, timezone.now(), None, 0)
        run.save()
    document = document_importer_named(run.format)
    spec = None if document is not None else spec_for(run.target_model)
    try:
        if spec is None and document is None:
            raise ImportFailed([problem(FILE_ROW, "file", _("These records cannot be imported any more."))])
        try:
            require(run.requested_by, run.agency_id, Action.ADD, run.target_model)
        except PermissionDenied:
            raise ImportFailed([problem(FILE_ROW, "file", _(
                "%(user)s may no longer add these records in this agency.") % {
                "user": run.requested_by.get_username()})]) from None
        if document is not None:
            _execute_document(run, document)
            return run
        header, total, keys = _survey(run, spec)
        ImportRun.objects.filter(pk=run.pk).update(rows_total=total)
        run.rows_total = total
        # All or nothing: any failed row raises, and the whole transaction rolls back.
        with transaction.atomic(), held_chain_heads():
            counts = _import_rows(run, spec, header, keys)
            _finish(run, ImportRunStatusChoices.SUCCEEDED, counts=counts)
    except ImportFailed as failure:
        _finish(run, ImportRunStatusChoices.FAILED, counts={"failed": failure.failed_rows,
                                                            "processed": failure.processed}, errors=failure.errors)
    except Exception:
        # A bug or a lost database must not leave the run "running" for ever; the traceback is logged.
        logger.exception("Import run %s stopped on an unexpected error", run.pk)
        _finish(run, ImportRunStatusChoices.FAILED, counts={}, errors=[problem(FILE_ROW, "file", _(
            "The import stopped on an unexpected error; nothing was imported. Try again, or tell an administrator."))])
    return run


def _execute_document(run, document) -> None:
    """A document is read whole, inside one transaction: any problem raises and rolls it all back."""
    with transaction.atomic(), held_chain_heads():
        with run.file.open("rb") as stored:
            counts = document.execute(run, getattr(stored.file, "file", stored.file))
        processed = sum(counts.get(name, 0) for name in ("created", "updated", "unchanged"))
        run.rows_total = processed
        _finish(run, ImportRunStatusChoices.SUCCEEDED, counts=counts)


def _finish(run, status, *, counts: dict, errors=()) -> None:
    run.status = status
    run.finished = timezone.now()
    run.created_count = counts.get("created", 0)
    run.updated_count = counts.get("updated", 0)
    run.unchanged_count = counts.get("unchanged", 0)
    run.failed_count = counts.get("failed", 0)
    if status == ImportRunStatusChoices.SUCCEEDED:
        run.rows_processed = run.rows_total or 0
    else:
        run.rows_processed = counts.get("processed", 0)
    run.errors = list(errors)
    name, storage = run.file.name, run.file.storage
    run.file = ""
    run.save()
    if name:  # the upload is not kept once the run is over (after commit: a rolled-back run keeps it)
        transaction.on_commit(lambda: storage.delete(name))


def _blank(cells) -> bool:
    return all(cell is None or (isinstance(cell, str) and not cell.strip()) for cell in cells)


def _rows(run):
    """(spreadsheet row number, cells) of each non-blank row, streamed: the header, then the data."""
    parser = parser_named(run.format)
    with run.file.open("rb") as stored:
        rows = parser.rows(getattr(stored.file, "file", stored.file))  # the plain file object where there is one
        try:
            for number, cells in enumerate(rows, start=1):
                if not _blank(cells):
                    yield number, cells
        except FileProblem as failure:
            raise ImportFailed([problem(FILE_ROW, "file", failure.message)]) from None
        finally:
            rows.close()


def _survey(run, spec):
    """First pass over the file: the header checked, the rows counted against the limit and the
    natural keys collected, without keeping the rows."""
    limit = settings.QGOV_IMPORT_MAX_ROWS
    rows = _rows(run)
    header_row, header_cells = next(rows, (None, None))
    if header_cells is None:
        raise ImportFailed([problem(FILE_ROW, "file", _("The file is empty."))])
    try:
        header = spec.read_header(header_cells)
    except HeaderProblem as failure:
        rows.close()
        raise ImportFailed([problem(header_row, column, message) for column, message in failure.problems]) from None
    key_position = next((i for i, column in enumerate(header) if column is not None and column.name == spec.key), None)
    total, keys = 0, set()
    for _number, cells in rows:
        total += 1
        if total > limit:
            rows.close()
            raise ImportFailed([problem(FILE_ROW, "file", _(
                "The file has more than %(limit)s rows; an import may hold at most %(limit)s. Split it.") % {
                "limit": limit})])
        if key_position is not None and key_position < len(cells):
            key = spec.key_column.parse(cells[key_position], None) if spec.key_column else None
            if key:
                keys.add(key)
    if total == 0:
        raise ImportFailed([problem(FILE_ROW, "file", _("The file has a header but no rows."))])
    return header, total, keys


def _existing(spec, agency, header, keys) -> dict:
    """The agency's records named by the file's natural keys, with the relations the file sets."""
    if not keys:
        return {}
    model = spec.model
    m2m = [column.field for column in header if column is not None and column.model_field.many_to_many]
    queryset = model._default_manager.filter(**{model.agency_lookup: agency}).prefetch_related(*m2m)
    key_field = spec.key_column.field
    keys = sorted(keys)
    found = {}
    for start in range(0, len(keys), KEY_CHUNK):
        for obj in queryset.filter(**{f"{key_field}__in": keys[start:start + KEY_CHUNK]}):
            found[getattr(obj, key_field)] = obj
    return found


def _import_rows(run, spec, header, keys) -> Counter:
    agency, user = run.agency, run.requested_by
    lookups = spec.prepare(agency, header)
    existing = _existing(spec, agency, header, keys)
    counts, errors, seen = Counter(), [], {}
    progress = ProgressWriter(ImportRun, run.pk)
    processed = 0
    try:
        rows = _rows(run)
        next(rows)  # the header, checked by the survey
        for number, cells in rows:
            outcome, problems = _import_row(spec, header, cells, lookups, existing, seen, number,
                                            agency=agency, user=user)
            if problems:
                counts["failed"] += 1
                errors += [problem(number, column, message) for column, message in problems]
            else:
                counts[outcome] += 1
            processed += 1
            if processed % PROGRESS_EVERY == 0:
                progress.write(rows_processed=processed)
    finally:
        progress.close()
    if errors:
        if len(errors) > MAX_REPORTED:
            errors = errors[:MAX_REPORTED] + [problem(FILE_ROW, "file", _(
                "… and %(n)s more problems, not listed; fix the ones above and import again.") % {
                "n": len(errors) - MAX_REPORTED})]
        raise ImportFailed(errors, failed_rows=counts["failed"], processed=processed)
    return counts


def _messages(error: ValidationError) -> dict:
    return error.message_dict if hasattr(error, "error_dict") else {NON_FIELD_ERRORS: error.messages}


def _column_problems(spec, error: ValidationError, skip=frozenset()) -> list[tuple[str, str]]:
    return [("row" if field == NON_FIELD_ERRORS else spec.column_of(field), message)
            for field, messages in _messages(error).items() if field not in skip for message in messages]


def _import_row(spec, header, cells, lookups, existing, seen, number, *, agency, user):
    """("created" | "updated" | "unchanged", []) for a row written, or (None, problems)."""
    data, problems = spec.parse_row(header, cells, lookups)
    key_column = spec.key_column
    key = data.get(key_column.field) if key_column is not None else None
    instance = None
    if key:
        if key in seen:
            problems.append((key_column.name, _("Also used on row %(row)s.") % {"row": seen[key]}))
        else:
            seen[key] = number
            instance = existing.get(key)
    if problems:
        # Nothing is written for this row, but the model's own rules are still checked on the cells
        # that could be read, so that the report lists every problem of the row at once.
        unreadable = {spec.columns[column].field for column, _message in problems if column in spec.columns}
        return None, problems + _model_problems(spec, data, instance, unreadable, agency=agency, user=user)
    try:
        if instance is None:
            object_create(model=spec.model, user=user, data={"agency": agency, **data})
            return "created", []
        if not _differs(instance, data):
            return "unchanged", []
        object_update(instance=instance, user=user, data=data)
        return "updated", []
    except ValidationError as error:
        return None, _column_problems(spec, error)
    except PermissionDenied:
        return None, [(key_column.name if key_column else "row", _("Your role does not allow changing this record."))]


def _model_problems(spec, data, instance, unreadable, *, agency, user) -> list[tuple[str, str]]:
    model = spec.model
    fields = {name: value for name, value in data.items() if not model._meta.get_field(name).many_to_many}
    if instance is None:
        candidate = model(agency=agency, **fields)
        if model.creator_field:
            setattr(candidate, model.creator_field, user)
    else:
        candidate = copy.copy(instance)
        for name, value in fields.items():
            setattr(candidate, name, value)
    try:
        candidate.full_clean(exclude=unreadable)
    except ValidationError as error:
        return _column_problems(spec, error, skip=unreadable)
    return []


def _differs(instance, data: dict) -> bool:
    for name, value in data.items():
        field = instance._meta.get_field(name)
        if field.many_to_many:
            if {obj.pk for obj in getattr(instance, name).all()} != {obj.pk for obj in value}:
                return True
        elif field.is_relation:
            if getattr(instance, field.attname) != (value.pk if value is not None else None):
                return True
        elif getattr(instance, name) != value:
            return True
    return False
