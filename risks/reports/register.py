"""The risk register report (the whole register under the requester's filters, read in batches)
and the register's POA&M findings for OSCAL."""

import uuid
from dataclasses import replace
from itertools import islice

import django_filters
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.http import QueryDict
from django.utils.translation import gettext as _

from qgov.fields import members_of
from qgov.models import AgencyScopedModel
from qgov.reports.choices import ReportKindChoices
from qgov.reports.document import Column, ReportContext, ReportTable, SectionData
from qgov.reports.sections import PoamEntry
from risks.choices import ControlStatusChoices, RiskStatusChoices, RiskTreatmentChoices, ThreatVectorCategoryChoices
from risks.filters import RiskFilterSet
from risks.models import Risk
from risks.reports.common import RATING_FIELDS, open_risks, person_fields, person_of, rating_columns, rating_values
from risks.selectors import matrix_of

CHUNK_SIZE = 1000  # rows per batch: one query for the rows' threat vectors and one for their controls
# Names of the register list's query string that are not filters a report may take.
REFUSED_FILTERS = ("agency",)  # a report is of one agency: the run's

# A fixed namespace: a risk's POA&M uuid is uuid5(namespace, "<agency code>/<reference>"), the same
# in every export, so a re-import updates the finding instead of adding one.
POAM_NAMESPACE = uuid.UUID("6f1c2a0e-4b7d-5e39-9a51-0c3d8e2f7b14")


# --- filters -----------------------------------------------------------------------------------

def register_filterset(filters: dict, agency) -> RiskFilterSet:
    """The register list's filterset bound to `filters` (query-string names and values) over the
    agency's risks, its choices scoped to the agency as the browser scopes them: records of the
    agency, people who are its members, the rating bands of its matrix."""
    data = QueryDict(mutable=True)
    for name, value in filters.items():
        data.setlist(name, [str(item) for item in value] if isinstance(value, list | tuple) else [str(value)])
    filterset = RiskFilterSet(data, queryset=Risk.objects.filter(agency=agency))
    user_model = get_user_model()
    for filter_ in filterset.filters.values():
        choices = getattr(filter_, "queryset", None)
        if choices is None or callable(choices):
            continue
        if choices.model is user_model:
            filter_.queryset = members_of(None, agency)
        elif issubclass(choices.model, AgencyScopedModel):
            filter_.queryset = choices.in_agency(agency)
    matrix = matrix_of(agency)
    if matrix is not None:  # as RiskFilterSet offers them in the browser
        filterset.filters["rating"] = django_filters.ChoiceFilter(
            field_name="rating", label=_("Rating band"),
            choices=[(band["name"], band["name"]) for band in reversed(matrix.bands)])
    return filterset


def clean_filters(filters, agency) -> dict:
    """The register's filters as given, checked as the register's list checks them; raises
    ValidationError({"filters": [...]}) naming each wrong or unknown filter."""
    if filters in (None, ""):
        return {}
    if not isinstance(filters, dict):
        raise ValidationError({"filters": [_("Give the filters as an object of filter names and values.")]})
    known = set(RiskFilterSet.base_filters) - set(REFUSED_FILTERS)
    messages = [_("“%(name)s” is not a filter of the risk register; filters: %(known)s.") % {
        "name": name, "known": ", ".join(sorted(known))} for name in filters if name not in known]
    for name, value in filters.items():
        items = value if isinstance(value, list | tuple) else [value]
        if name in known and not all(isinstance(item, str | int | bool) for item in items):
            messages.append(_("“%(name)s”: give a text, a number or a list of them.") % {"name": name})
    if messages:
        raise ValidationError({"filters": messages})
    cleaned = {}
    for name, value in filters.items():  # as query-string values: text, empty ones left out
        items = [str(item).strip() for item in (value if isinstance(value, list | tuple) else [value])]
        items = [item for item in items if item]
        if items:
            cleaned[name] = items if isinstance(value, list | tuple) else items[0]
    filterset = register_filterset(cleaned, agency)
    if not filterset.is_valid():
        raise ValidationError({"filters": [f"{name}: {message}" for name, errors in filterset.errors.items()
                                           for message in errors]})
    return cleaned


def validate_parameters(kind, parameters, agency) -> dict:
    """The parameters the register's section reads: the register report's filters."""
    if kind != ReportKindChoices.RISK_REGISTER:
        return {}
    return {"filters": clean_filters((parameters or {}).get("filters"), agency)}


# --- the register ------------------------------------------------------------------------------

REGISTER_FIELDS = ("pk", "reference", "title", "status", "treatment", "review_date", *RATING_FIELDS,
                   *person_fields("owner"))


def register_columns() -> list[Column]:
    # The PDF shows what a reader scans a register for; every column is in its attached CSV and JSON.
    in_pdf = {"reference", "title", "threat_vectors", "owner", "status", "current_band", "residual_band",
              "review_date"}
    columns = [Column("reference", _("Reference")), Column("title", _("Title")),
               Column("category", _("Threat category")), Column("threat_vectors", _("Threat vectors")),
               Column("owner", _("Owner")), Column("status", _("Status")), Column("treatment", _("Treatment")),
               *rating_columns(), Column("review_date", _("Review due"), "date"),
               Column("controls", _("Controls"), "number")]
    return [replace(column, in_pdf=column.key in in_pdf) for column in columns]


def chunked(queryset, size=CHUNK_SIZE):
    rows = queryset.iterator(chunk_size=size)
    while chunk := list(islice(rows, size)):
        yield chunk


def register_rows(risks, matrix):
    """The rows of `risks` (a queryset), read in batches: one query for the rows (a server-side
    cursor where the database has one) and, per batch, one for their threat vectors and one for
    their controls' count, whatever the number of rows."""
    categories = dict(ThreatVectorCategoryChoices.choices)
    statuses, treatments = dict(RiskStatusChoices.choices), dict(RiskTreatmentChoices.choices)
    links = Risk.threat_vectors.through.objects
    control_links = Risk.controls.through.objects
    for chunk in chunked(risks.order_by("reference", "pk").values(*REGISTER_FIELDS)):
        ids = [row["pk"] for row in chunk]
        vectors = {}
        for risk_id, code, category in links.filter(risk_id__in=ids).order_by(
                "risk_id", "threatvector__code").values_list("risk_id", "threatvector__code", "threatvector__category"):
            vectors.setdefault(risk_id, []).append((code, category))
        controls = dict(control_links.filter(risk_id__in=ids).values_list("risk_id").annotate(n=Count("pk"))
                        .order_by())
        for row in chunk:
            linked = vectors.get(row["pk"], [])
            yield {"reference": row["reference"], "title": row["title"],
                   "category": "; ".join(sorted({str(categories[category]) for _code, category in linked})) or None,
                   "threat_vectors": "; ".join(code for code, _category in linked) or None,
                   "owner": person_of(row, "owner") or None, "status": str(statuses[row["status"]]),
                   "treatment": str(treatments[row["treatment"]]), **rating_values(row, matrix),
                   "review_date": row["review_date"], "controls": controls.get(row["pk"], 0)}


def register_section(context: ReportContext) -> SectionData:
    agency = context.agency
    filters = dict(context.parameters.get("filters") or {})
    filterset = register_filterset(filters, agency)
    if not filterset.is_valid():  # checked when the run was requested; a record chosen may have gone since
        raise ValueError(_("The register's filters are no longer valid: %(errors)s") % {
            "errors": "; ".join(f"{name}: {' '.join(errors)}" for name, errors in filterset.errors.items())})
    risks = filterset.qs
    matrix = matrix_of(agency)
    shown = ", ".join(f"{name}={'|'.join(map(str, value)) if isinstance(value, list | tuple) else value}"
                      for name, value in sorted(filters.items()))
    table = ReportTable(
        key="register", title=_("Risk register"), columns=register_columns(),
        rows=lambda: register_rows(risks, matrix),
        note=_("Filters: %(filters)s. By reference.") % {"filters": shown} if shown else _(
            "All risks, by reference."),
        empty_text=_("No risks match these filters.") if shown else _("The register is empty."))
    return SectionData(
        key="risks", title=_("Risk register"),
        intro=_("The agency's risk register as of %(day)s: each risk with its threat vectors, owner, status, "
                "treatment, the inherent, current and residual ratings with their bands, its next review and the "
                "number of its controls.") % {"day": context.as_of_date.isoformat()},
        tables=[table])


# --- POA&M ---------------------------------------------------------------------------------------

POAM_STATUS = {
    RiskStatusChoices.DRAFT: "open",
    RiskStatusChoices.ASSESSED: "investigating",  # rated; the treatment is being decided
    RiskStatusChoices.IN_TREATMENT: "remediating",
    RiskStatusChoices.ACCEPTED: "deviation-approved",
}


FINISHED_CONTROLS = (ControlStatusChoices.IMPLEMENTED, ControlStatusChoices.RETIRED)


def poam_uuid(agency, reference: str) -> str:
    return str(uuid.uuid5(POAM_NAMESPACE, f"{agency.code}/{reference}"))


def poam_entries(context: ReportContext):
    """The agency's open risks as POA&M findings, in batches. A finding's milestones are the due dates
    of its risk's unfinished controls (the treatment plan); its deadline the last of them, or the
    risk's next review when no control has a date."""
    agency = context.agency
    matrix = matrix_of(agency)
    fields = ("pk", "reference", "title", "description", "status", "review_date", "inherent_likelihood",
              "inherent_impact", "current_likelihood", "current_impact", *person_fields("owner"))
    control_links = Risk.controls.through.objects
    for chunk in chunked(open_risks(agency).order_by("reference", "pk").values(*fields)):
        plans = {}
        for risk_id, title, due in control_links.filter(
                risk_id__in=[row["pk"] for row in chunk], control__due_date__isnull=False).exclude(
                control__status__in=FINISHED_CONTROLS).order_by(
                "risk_id", "control__due_date", "control__title").values_list(
                "risk_id", "control__title", "control__due_date"):
            plans.setdefault(risk_id, []).append((title, due))
        for row in chunk:
            milestones = tuple(plans.get(row["pk"], ()))
            likelihood = row["current_likelihood"] or row["inherent_likelihood"]
            impact = row["current_impact"] or row["inherent_impact"]
            yield PoamEntry(
                uuid=poam_uuid(agency, row["reference"]), title=row["title"],
                description=row["description"] or row["title"], status=POAM_STATUS[row["status"]],
                reference=row["reference"], owner=person_of(row, "owner"),
                deadline=max(due for _title, due in milestones) if milestones else row["review_date"],
                likelihood=_level(matrix, "likelihood_labels", likelihood),
                impact=_level(matrix, "impact_labels", impact), milestones=milestones)


def _level(matrix, labels: str, level) -> str:
    names = getattr(matrix, labels, None) or []
    return f"{level} {names[level - 1]}" if level and level <= len(names) else str(level or "")

