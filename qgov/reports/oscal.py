"""The compliance report's register as an OSCAL Plan of Action and Milestones (JSON), built with
compliance-trestle's models, so the document is valid against the OSCAL model it declares.

What goes where (OSCAL 1.2, as trestle models it):

- `metadata`: title "<agency> compliance report POA&M", last-modified = the report's as-of instant,
  version = the as-of day (agency's zone), oscal-version = trestle's; the agency as the one party
  (type organization), the origin of every risk's characterization.
- `system-id`: the agency's code, under the identifier type `AGENCY_IDS`
  ("https://qgov.example/ns/agency"): a POA&M normally names a system from an SSP; qgov has none,
  and the agency's register is the subject.
- the plan's risk entries: one per entry (uuid derived from the entry's), with its status (OSCAL's risk-status
  tokens: open, investigating, remediating, deviation-approved, closed), deadline, likelihood and
  impact as characterization facets, and its milestones as a planned remediation whose tasks are
  milestones on their dates.
- `poam-items`: one per entry (the entry's uuid), with props `reference`, `status`, `likelihood`,
  `impact` and `owner` in qgov's namespace (`NAMESPACE`), and a link to its risk entry.

A day (a deadline, a milestone) becomes the last second of that day in the agency's time zone: "by
that day". OSCAL requires at least one poam-item: with no open finding the document has one item
that says so (prop `placeholder` = `true`) and no risk entries. Every uuid is derived (uuid5) from the
agency, the as-of instant or the entry's own uuid, so the same input gives the same bytes.
"""

import datetime as dt
import uuid
from collections.abc import Iterable, Iterator

from trestle.oscal import OSCAL_VERSION
from trestle.oscal.common import (
    AssociatedRisk,
    Characterization,
    Facet,
    Metadata,
    OnDate,
    Origin,
    OriginActor,
    Parties,
    Property,
    Response,
    Risk,
    SystemId,
    Task,
    TimingOnDate,
)
from trestle.oscal.poam import PlanOfActionAndMilestones, PoamItem

from qgov.reports.document import ReportContext
from qgov.reports.sections import PoamEntry, sections_for

NAMESPACE = "https://qgov.example/ns/oscal"  # qgov's props and facets
AGENCY_IDS = "https://qgov.example/ns/agency"  # the system-id's identifier type: agency codes
_ROOT = uuid.uuid5(uuid.NAMESPACE_URL, NAMESPACE)


def _derived(*parts) -> str:
    return str(uuid.uuid5(_ROOT, "/".join(str(part) for part in parts)))


def _line(text: str) -> str:
    """A single-line OSCAL title or token value: whitespace runs (newlines too) become one space."""
    return " ".join(str(text).split())


def _by_end_of(value, zone: dt.tzinfo) -> dt.datetime | None:
    """A deadline or milestone as the aware instant OSCAL wants: a day is its last second, in the
    agency's zone; an instant is kept."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=zone)
    return dt.datetime.combine(value, dt.time(23, 59, 59), tzinfo=zone)


def _props(**values) -> list[Property] | None:
    props = [Property(name=name, value=_line(value), ns=NAMESPACE) for name, value in values.items()
             if _line(value or "")]
    return props or None


def _risk(entry: PoamEntry, *, agency_party: str, zone: dt.tzinfo) -> Risk:
    facets = [Facet(name=name, system=NAMESPACE, value=_line(value))
              for name, value in (("likelihood", entry.likelihood), ("impact", entry.impact)) if _line(value or "")]
    milestones = [Task(uuid=_derived(entry.uuid, "milestone", number), type="milestone",
                       title=_line(title) or f"Milestone {number}",
                       timing=TimingOnDate(on_date=OnDate(date=_by_end_of(day, zone))) if day else None)
                  for number, (title, day) in enumerate(entry.milestones, start=1)]
    return Risk(
        uuid=_derived(entry.uuid, "risk"), title=_line(entry.title) or entry.reference,
        description=entry.description or entry.title, statement=entry.description or entry.title,
        props=_props(reference=entry.reference), status=entry.status,
        characterizations=[Characterization(
            origin=Origin(actors=[OriginActor(type="party", actor_uuid=agency_party)]), facets=facets)]
        if facets else None,
        deadline=_by_end_of(entry.deadline, zone),
        remediations=[Response(uuid=_derived(entry.uuid, "plan"), lifecycle="planned",
                               title=_line(f"Treatment plan of {entry.reference or entry.title}"),
                               description="The milestones recorded against this risk in the register.",
                               tasks=milestones)] if milestones else None)


def _item(entry: PoamEntry, risk: Risk) -> PoamItem:
    return PoamItem(
        uuid=entry.uuid, title=_line(entry.title) or entry.reference, description=entry.description or entry.title,
        props=_props(reference=entry.reference, status=entry.status, likelihood=entry.likelihood,
                     impact=entry.impact, owner=entry.owner),
        related_risks=[AssociatedRisk(risk_uuid=risk.uuid)])


def _placeholder(context: ReportContext) -> PoamItem:
    day = context.as_of_date.isoformat()
    return PoamItem(
        uuid=_derived(context.agency.code, "no-open-findings", context.as_of.isoformat()),
        title="No open findings",
        description=f"The register of {context.agency.name} had no open finding as of {day}. OSCAL requires at "
                    "least one POA&M item; this one stands for none.",
        props=[Property(name="placeholder", value="true", ns=NAMESPACE)])


def poam(context: ReportContext, entries: Iterable[PoamEntry]) -> PlanOfActionAndMilestones:
    agency, zone = context.agency, context.zone
    agency_party = _derived(agency.code, "agency")
    plan_risks, items = [], []
    for entry in entries:
        risk = _risk(entry, agency_party=agency_party, zone=zone)
        plan_risks.append(risk)
        items.append(_item(entry, risk))
    metadata = Metadata(
        title=_line(f"{agency.name} compliance report POA&M"), last_modified=context.as_of,
        version=context.as_of_date.isoformat(), oscal_version=OSCAL_VERSION,
        parties=[Parties(uuid=agency_party, type="organization", name=_line(agency.name),
                         short_name=_line(agency.code))])
    return PlanOfActionAndMilestones(
        uuid=_derived(agency.code, "poam", context.as_of.isoformat()), metadata=metadata,
        system_id=SystemId(identifier_type=AGENCY_IDS, id=agency.code), risks=plan_risks or None,
        poam_items=items or [_placeholder(context)])


def poam_json(context: ReportContext, entries: Iterable[PoamEntry]) -> bytes:
    """{"plan-of-action-and-milestones": …} as UTF-8 JSON, indented."""
    return poam(context, entries).oscal_serialize_json_bytes(pretty=True, wrapped=True)


def registered_entries(context: ReportContext) -> Iterator[PoamEntry]:
    """The findings every section of the report contributes (`ReportSection.poam_entries`), in the
    sections' order: what `poam_json` is given for a compliance report."""
    for section in sections_for(context.kind):
        if section.poam_entries is not None:
            yield from section.poam_entries(context)
