"""The registry of report sections. Each domain app declares its sections in its QgovApp
(`report_sections`); qgov.registry.register adds them here. A section says which report kinds it
contributes to by giving a builder per kind: `builder(context: ReportContext) -> SectionData`."""

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from qgov.reports.document import ReportContext, SectionData


@dataclass(frozen=True)
class PoamEntry:
    """One finding of the OSCAL Plan of Action and Milestones (qgov.reports.oscal): a risk that is
    still open, with what is planned against it."""

    uuid: str  # stable for the record (uuid5 of its reference), so a re-export updates, not duplicates
    title: str
    description: str
    status: str  # "open", "investigating", "remediating", "deviation-approved", "closed"
    reference: str
    owner: str = ""
    deadline: object = None  # date or None
    likelihood: str = ""
    impact: str = ""
    milestones: tuple = ()  # (title, date) pairs


@dataclass(frozen=True)
class ReportSection:
    key: str  # unique across apps: the app label is a good one
    title: str
    order: int  # position in every report
    builders: Mapping[str, Callable[[ReportContext], SectionData]] = field(default_factory=dict)
    # validate_parameters(kind, parameters, agency) -> the cleaned parameters this section reads (e.g. the
    # register's filters), raising django.core.exceptions.ValidationError({"field": [messages]}) when
    # they are wrong; called when a run is requested, so bad input is refused before anything is queued.
    validate_parameters: Callable | None = None
    # The register's findings for the OSCAL POA&M of a compliance report (None: none from this section).
    poam_entries: Callable[[ReportContext], Iterable[PoamEntry]] | None = None


_sections: dict[str, ReportSection] = {}


def register(section: ReportSection) -> None:
    if section.key in _sections:
        raise ValueError(f"The report section {section.key!r} is already registered.")
    _sections[section.key] = section


def unregister(key: str) -> None:
    _sections.pop(key, None)


def sections() -> list[ReportSection]:
    return sorted(_sections.values(), key=lambda section: (section.order, section.key))


def sections_for(kind: str) -> list[ReportSection]:
    return [section for section in sections() if kind in section.builders]
