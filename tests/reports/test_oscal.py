"""The compliance report's register as an OSCAL POA&M (qgov.reports.oscal): entries made by hand,
serialised, then read back with compliance-trestle's own model validation; exact uuids, titles,
counts, deadlines and milestones; a register without findings still gives a valid document; the same
input gives the same bytes."""

import datetime as dt
import json
import uuid

import pytest
from trestle.oscal import OSCAL_VERSION
from trestle.oscal.poam import Model, PlanOfActionAndMilestones

from qgov.models import Agency
from qgov.reports import sections
from qgov.reports.choices import ReportKindChoices
from qgov.reports.document import ReportContext, SectionData
from qgov.reports.oscal import AGENCY_IDS, NAMESPACE, poam_json, registered_entries
from qgov.reports.sections import PoamEntry, ReportSection

AS_OF = dt.datetime(2026, 11, 30, 12, 0, tzinfo=dt.UTC)
AGENCY = Agency(name="Department of Quantum Networks", code="DQN", time_zone="Europe/Brussels")


def entry_uuid(reference: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"https://qgov.example/risks/DQN/{reference}"))


HNDL = PoamEntry(
    uuid=entry_uuid("RSK-0007"), title="Harvest-now-decrypt-later on the backbone",
    description="Recorded QKD-authenticated traffic is protected by RSA-2048 signatures.", status="remediating",
    reference="RSK-0007", owner="Ada Lovelace", deadline=dt.date(2027, 3, 31), likelihood="4 – Likely",
    impact="5 – Severe", milestones=(("PQC pilot on BER-POT", dt.date(2027, 1, 15)),
                                     ("Hybrid signatures everywhere", dt.date(2027, 3, 31))))
FIRMWARE = PoamEntry(uuid=entry_uuid("RSK-0012"), title="Unsigned firmware\non trusted nodes", description="",
                     status="open", reference="RSK-0012")


def context(as_of=AS_OF) -> ReportContext:
    return ReportContext(agency=AGENCY, kind=ReportKindChoices.COMPLIANCE, as_of=as_of)


def read_back(data: bytes) -> PlanOfActionAndMilestones:
    """The document as compliance-trestle reads it: the wrapper and everything in it validated."""
    document = json.loads(data)
    assert list(document) == ["plan-of-action-and-milestones"]
    Model.model_validate(document)
    return PlanOfActionAndMilestones.model_validate(document["plan-of-action-and-milestones"])


def token(value) -> str:
    """A token as text, whichever of the model's union types (an enum, a token root model) it was read as."""
    while hasattr(value, "root"):
        value = value.root
    return getattr(value, "value", value)


def prop_values(props) -> dict:
    assert {str(prop.ns) for prop in props} == {NAMESPACE}
    return {prop.name: prop.value for prop in props}


def test_each_entry_is_a_poam_item_with_its_risk_deadline_and_milestones():
    plan = read_back(poam_json(context(), [HNDL, FIRMWARE]))
    metadata = plan.metadata
    assert metadata.title == "Department of Quantum Networks compliance report POA&M"
    assert metadata.last_modified == AS_OF
    assert (metadata.version, token(metadata.oscal_version)) == ("2026-11-30", OSCAL_VERSION)
    assert [(party.type, party.name, party.short_name) for party in metadata.parties] == [
        ("organization", "Department of Quantum Networks", "DQN")]
    assert (str(plan.system_id.identifier_type), plan.system_id.id) == (AGENCY_IDS, "DQN")

    assert [item.uuid for item in plan.poam_items] == [HNDL.uuid, FIRMWARE.uuid]
    # A title is one line in OSCAL; an empty description falls back to the title.
    assert [(item.title, item.description) for item in plan.poam_items] == [
        ("Harvest-now-decrypt-later on the backbone",
         "Recorded QKD-authenticated traffic is protected by RSA-2048 signatures."),
        ("Unsigned firmware on trusted nodes", "Unsigned firmware\non trusted nodes")]
    hndl, firmware = plan.poam_items
    assert prop_values(hndl.props) == {"reference": "RSK-0007", "status": "remediating", "likelihood": "4 – Likely",
                                       "impact": "5 – Severe", "owner": "Ada Lovelace"}
    assert prop_values(firmware.props) == {"reference": "RSK-0012", "status": "open"}

    assert len(plan.risks) == 2
    assert [item.related_risks[0].risk_uuid for item in plan.poam_items] == [risk.uuid for risk in plan.risks]
    hndl_risk, firmware_risk = plan.risks
    assert [token(risk.status) for risk in plan.risks] == ["remediating", "open"]
    # "By 31 March 2027": the last second of that day in Brussels (CEST from 28 March).
    assert hndl_risk.deadline == dt.datetime(2027, 3, 31, 21, 59, 59, tzinfo=dt.UTC)
    assert firmware_risk.deadline is None and firmware_risk.remediations is None
    assert [(facet.name, facet.value) for facet in hndl_risk.characterizations[0].facets] == [
        ("likelihood", "4 – Likely"), ("impact", "5 – Severe")]
    assert hndl_risk.characterizations[0].origin.actors[0].actor_uuid == metadata.parties[0].uuid
    (plan_of_risk,) = hndl_risk.remediations
    assert (token(plan_of_risk.lifecycle), plan_of_risk.title) == ("planned", "Treatment plan of RSK-0007")
    assert [(token(task.type), task.title, task.timing.on_date.date) for task in plan_of_risk.tasks] == [
        ("milestone", "PQC pilot on BER-POT", dt.datetime(2027, 1, 15, 22, 59, 59, tzinfo=dt.UTC)),
        ("milestone", "Hybrid signatures everywhere", dt.datetime(2027, 3, 31, 21, 59, 59, tzinfo=dt.UTC))]


def test_a_register_without_findings_still_gives_a_valid_document():
    """OSCAL requires at least one poam-item: one item says there is none, and there are no risks."""
    with pytest.raises(ValueError, match="poam-items"):
        PlanOfActionAndMilestones.model_validate({**json.loads(poam_json(context(), []))[
            "plan-of-action-and-milestones"], "poam-items": []})
    plan = read_back(poam_json(context(), []))
    assert plan.risks is None
    (item,) = plan.poam_items
    assert item.title == "No open findings"
    assert item.description == ("The register of Department of Quantum Networks had no open finding as of 2026-11-30. "
                                "OSCAL requires at least one POA&M item; this one stands for none.")
    assert prop_values(item.props) == {"placeholder": "true"}


def test_the_same_input_gives_the_same_bytes_and_items_keep_their_uuids():
    first, second = poam_json(context(), [HNDL, FIRMWARE]), poam_json(context(), iter([HNDL, FIRMWARE]))
    assert first == second
    later = read_back(poam_json(context(AS_OF + dt.timedelta(days=31)), [HNDL, FIRMWARE]))
    plan = read_back(first)
    # A later report is another document about the same findings and risks.
    assert later.uuid != plan.uuid
    assert [item.uuid for item in later.poam_items] == [item.uuid for item in plan.poam_items]
    assert [risk.uuid for risk in later.risks] == [risk.uuid for risk in plan.risks]
    assert poam_json(context(), []) == poam_json(context(), [])


def test_trestle_reads_the_file_back(tmp_path):
    path = tmp_path / "poam.json"
    path.write_bytes(poam_json(context(), [HNDL]))
    plan = PlanOfActionAndMilestones.oscal_read(path)
    assert [item.uuid for item in plan.poam_items] == [HNDL.uuid]


def test_the_entries_come_from_the_sections_of_the_report(monkeypatch):
    def only_figures(context):
        return SectionData(key="test-poam", title="Test")

    section = ReportSection(key="test-poam", title="Test", order=1,
                            builders={ReportKindChoices.COMPLIANCE: only_figures},
                            poam_entries=lambda context: [HNDL, FIRMWARE])
    # This section alone in the registry: the apps' own sections read the database.
    monkeypatch.setattr(sections, "_sections", {})
    sections.register(section)
    sections.register(ReportSection(key="no-poam", title="None", order=2,
                                    builders={ReportKindChoices.COMPLIANCE: only_figures}))
    assert list(registered_entries(context())) == [HNDL, FIRMWARE]
    assert list(registered_entries(ReportContext(agency=AGENCY, kind=ReportKindChoices.TRANSPARENCY,
                                                 as_of=AS_OF))) == []
