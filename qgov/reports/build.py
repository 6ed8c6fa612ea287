"""From a run to a ReportDocument, and from a document to its CSV and JSON files.

Sections come from the registry (each app's builders); the core adds the compliance report's
appendix (the agency's audit chain, verified now, and its latest signed checkpoint). CSV and JSON
are written row by row from the tables' row sources, so a large register is never held whole.
"""

import csv
import datetime as dt
import json
from decimal import Decimal

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from qgov.reports.choices import ReportKindChoices
from qgov.reports.document import Column, Figure, ReportContext, ReportDocument, ReportTable, SectionData
from qgov.reports.sections import sections_for

JSON_FORMAT = "qgov-report/1"


def generator_version() -> str:
    """"qgov <version>" from pyproject.toml (qgov runs from its checkout, not as an installed package)."""
    import tomllib
    from pathlib import Path

    pyproject = Path(__file__).resolve().parents[2] / "pyproject.toml"
    return f"qgov {tomllib.loads(pyproject.read_text())['project']['version']}"


def horizon_end(run) -> dt.date | None:
    """The last day of a sunset review's window: `horizon_months` on from the as-of day."""
    if run.kind != ReportKindChoices.SUNSET_REVIEW:
        return None
    from qgov.dates import add_months

    as_of_day = report_context(run, with_horizon=False).as_of_date
    return add_months(as_of_day, int(run.parameters.get("horizon_months", 12)))


def report_context(run, *, with_horizon: bool = True) -> ReportContext:
    return ReportContext(agency=run.agency, kind=run.kind, as_of=run.as_of,
                         horizon_end=horizon_end(run) if with_horizon else None,
                         parameters=dict(run.parameters or {}), user=run.requested_by)


def report_period(context: ReportContext) -> str:
    as_of = date_format(context.as_of_date, "j M Y")
    if context.horizon_end is not None:
        return f"{as_of} – {date_format(context.horizon_end, 'j M Y')}"
    return _("as of %(date)s") % {"date": as_of}


def audit_appendix(context: ReportContext) -> SectionData:
    """The agency's audit chain verified as of the report, and its latest signed checkpoint."""
    from qgov.audit import chain_of
    from qgov.audit_verify import verify_chains
    from qgov.models import AuditCheckpoint

    chain = chain_of(context.agency.pk)
    reports = verify_chains(chain=chain)
    report = reports[0] if reports else None
    problem = report.problem if report else None
    checkpoint = AuditCheckpoint.objects.filter(chain=chain).order_by("-seq").first()
    figures = [
        Figure("chain", _("Audit chain"), chain),
        Figure("verified", _("Verification"), _("intact") if problem is None else _("BROKEN: %(problem)s") % {
            "problem": problem}),
        Figure("events", _("Events verified"), report.events if report else 0),
        Figure("head_seq", _("Head sequence"), report.head_seq if report else 0),
        Figure("head_hash", _("Head hash"), report.head_hash if report else ""),
    ]
    table = ReportTable(
        key="checkpoint", title=_("Latest signed checkpoint"),
        columns=[Column("seq", _("Sequence"), "number"), Column("hash", _("Hash")),
                 Column("created", _("Signed"), "datetime"), Column("key_id", _("Key")),
                 Column("signature", _("Signature"))],
        rows=[{"seq": checkpoint.seq, "hash": checkpoint.hash, "created": checkpoint.created,
               "key_id": checkpoint.key_id, "signature": checkpoint.signature}] if checkpoint else [],
        empty_text=_("No checkpoint has been signed for this chain yet."))
    return SectionData(key="audit", title=_("Appendix: audit trail"), intro=_(
        "The agency's audit chain was walked from its first event to its head when this report was built; "
        "each event's keyed hash was recomputed. Checkpoints are signed daily and sent to the agency's auditors, "
        "so a later rewrite of the chain is provable from outside."), figures=figures, tables=[table])


def report_sections(context: ReportContext, *, progress=None) -> list[SectionData]:
    registered = sections_for(context.kind)
    built = []
    for number, section in enumerate(registered, start=1):
        built.append(section.builders[context.kind](context))
        if progress:
            progress(number, len(registered) + 1, section.title)
    if context.kind == ReportKindChoices.COMPLIANCE:
        built.append(audit_appendix(context))
    if context.kind == ReportKindChoices.TRANSPARENCY:
        from qgov.reports.transparency import redact

        built = [redact(section) for section in built]
    return built


def report_document(run, *, progress=None) -> ReportDocument:
    context = report_context(run)
    return ReportDocument(
        run_id=run.pk, kind=run.kind, kind_label=str(ReportKindChoices(run.kind).label),
        title=f"{ReportKindChoices(run.kind).label}: {run.agency.name}",
        agency_name=run.agency.name, agency_code=run.agency.code, period=report_period(context),
        as_of=run.as_of, generated_at=timezone.now(), generator_version=run.generator_version or generator_version(),
        marking=run.marking, page_size=run.page_size, parameters=dict(run.parameters or {}),
        sections=report_sections(context, progress=progress))


# --- CSV and JSON -------------------------------------------------------------------------------


def plain(value):
    """A cell as CSV and JSON carry it: dates in ISO 8601, decimals as strings, the rest as is."""
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat() if timezone.is_aware(value) else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if hasattr(value, "label") and hasattr(value, "value"):  # a choice
        return value.value
    return value


def write_csv(document: ReportDocument, stream) -> None:
    """One CSV: the report's identity, then each table under a title row (section, table), then its
    header and rows. The JSON file carries the same data with its structure."""
    writer = csv.writer(stream)
    writer.writerow(["report", document.kind, "run", document.run_id, "agency", document.agency_code,
                     "as_of", plain(document.as_of), "marking", document.marking])
    for section in document.sections:
        if section.figures:
            writer.writerow([])
            writer.writerow([f"# {section.key}", "figures"])
            writer.writerow(["key", "label", "value"])
            for figure in section.figures:
                writer.writerow([figure.key, figure.label, plain(figure.value)])
        for table in section.tables:
            writer.writerow([])
            writer.writerow([f"# {section.key}", table.key])
            writer.writerow([column.key for column in table.columns])
            for row in table.iter_rows():
                writer.writerow([plain(row.get(column.key)) for column in table.columns])


def write_json(document: ReportDocument, stream) -> None:
    """The report as JSON, written table row by table row."""
    dump = json.dumps
    head = {"format": JSON_FORMAT, "run": document.run_id, "kind": document.kind, "title": document.title,
            "agency": {"code": document.agency_code, "name": document.agency_name}, "period": document.period,
            "as_of": plain(document.as_of), "generated_at": plain(document.generated_at),
            "generator": document.generator_version, "marking": document.marking,
            "parameters": document.parameters}
    stream.write(dump(head)[:-1] + ', "sections": [')
    for number, section in enumerate(document.sections):
        stream.write((", " if number else "") + dump({
            "key": section.key, "title": section.title,
            "figures": {figure.key: {"label": figure.label, "value": plain(figure.value)}
                        for figure in section.figures},
            "evidence": [{"sha256": item.sha256, "name": item.name, "record": item.record,
                          "uploaded": plain(item.uploaded)} for item in section.evidence],
        })[:-1] + ', "tables": [')
        for table_number, table in enumerate(section.tables):
            stream.write((", " if table_number else "") + dump({
                "key": table.key, "title": table.title,
                "columns": [{"key": column.key, "label": column.label, "kind": column.kind}
                            for column in table.columns]})[:-1] + ', "rows": [')
            for row_number, row in enumerate(table.iter_rows()):
                stream.write((", " if row_number else "") + dump(
                    {column.key: plain(row.get(column.key)) for column in table.columns}))
            stream.write("]}")
        stream.write("]}")
    stream.write("]}")
