"""Contracts: every validation rule refused alike by the form and the API (nothing written), the
open-interface commitments as a choice of known interfaces, covered devices and assets of the
agency only, the re-evaluation cycle on renewal, the contract page, the contracts due list and a
sunset reminder through the core."""

import datetime
import zoneinfo

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from procurement.models import Contract
from procurement.services import contract_next_reevaluation
from qgov.choices import RoleChoices
from qgov.duedates.services import due_reminders_send
from qgov.models import AuditEvent, Notification
from tests.certification.factories import DeviceFactory
from tests.procurement.factories import ContractFactory, SupplierFactory
from tests.risks.factories import AssetFactory

TODAY = timezone.localdate(timezone=zoneinfo.ZoneInfo("Europe/Brussels"))  # the factories' agency zone


def days(n):
    return TODAY + datetime.timedelta(days=n)


@pytest.fixture
def editor(agency, member_of):
    return member_of(agency, RoleChoices.EDITOR, username="eddie")


@pytest.fixture
def admin(agency, member_of):
    return member_of(agency, RoleChoices.ADMIN, username="ada")


@pytest.fixture
def supplier(agency):
    return SupplierFactory(agency=agency, name="Photonica Quantum AG", country="CH")


def form_data(supplier, **changes):
    data = {"supplier": supplier.pk, "reference": "CT-2026-01", "title": "QKD backbone supply and support",
            "value": "480000", "currency": "EUR", "start": days(-30).isoformat(), "end": days(1500).isoformat(),
            "sunset_date": days(1200).isoformat(), "reevaluation_months": "12",
            "open_interfaces": ["ETSI GS QKD 014", "ETSI GS QKD 015"], "exit_plan": "Re-tender with two vendors."}
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def api_data(supplier, **changes):
    data = form_data(supplier, **changes)
    data["agency"] = supplier.agency_id
    return data


BAD_INPUT = [
    ({"sunset_date": days(-40).isoformat()}, "sunset_date", "The sunset date must be after the start"),
    ({"end": days(-60).isoformat(), "sunset_date": None}, "end", "The end must be after the start."),
    ({"sunset_date": days(1600).isoformat()}, "sunset_date", "The sunset date falls after the end"),
    ({"currency": ""}, "currency", "Give the currency of the value."),
    ({"currency": "EURO"}, "currency", "Ensure this"),  # DRF and Django word the length differently
    ({"currency": "E1R"}, "currency", "Give the ISO 4217 code, e.g. EUR."),
]


@pytest.mark.parametrize(("changes", "field", "message"), BAD_INPUT)
def test_the_form_refuses_bad_dates_and_money_and_writes_nothing(client, editor, supplier, changes, field, message):
    client.force_login(editor)
    events = AuditEvent.objects.count()
    response = client.post("/procurement/contracts/add/", form_data(supplier, **changes))
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert list(errors) == [field], errors
    assert errors[field][0].startswith(message), errors
    assert message[:25] in response.content.decode()  # shown beside the field
    assert not Contract.objects.exists()
    assert AuditEvent.objects.count() == events


@pytest.mark.parametrize(("changes", "field", "message"), BAD_INPUT)
def test_the_api_refuses_bad_dates_and_money_and_writes_nothing(api_as, editor, supplier, changes, field, message):
    response = api_as(editor).post("/api/contracts/", api_data(supplier, **changes), format="json")
    assert response.status_code == 400, response.data
    errors = response.json()["errors"]
    assert list(errors) == [field], errors
    assert errors[field][0].startswith(message), errors
    assert not Contract.objects.exists()


def test_good_input_is_saved_with_its_interfaces_as_a_list(client, api_as, editor, supplier):
    client.force_login(editor)
    response = client.post("/procurement/contracts/add/", form_data(supplier))
    contract = Contract.objects.get()
    assert response.status_code == 302 and response["Location"] == contract.get_absolute_url()
    assert contract.open_interfaces == ["ETSI GS QKD 014", "ETSI GS QKD 015"]
    assert contract.next_reevaluation == days(-30).replace(year=days(-30).year + 1)  # start + 12 months
    body = api_as(editor).get(f"/api/contracts/{contract.pk}/").json()
    assert body["open_interfaces"] == ["ETSI GS QKD 014", "ETSI GS QKD 015"]
    edit = client.get(f"/procurement/contracts/{contract.pk}/edit/").content.decode()
    assert 'type="checkbox" name="open_interfaces" value="ETSI GS QKD 014"' in edit
    assert edit.count('name="open_interfaces"') == 6  # 004, 014, 015, 018, Y.3800, other


def test_unknown_interfaces_are_refused_by_the_form_the_api_and_the_model(client, api_as, editor, supplier):
    client.force_login(editor)
    response = client.post("/procurement/contracts/add/", form_data(supplier, open_interfaces=["ETSI GS QKD 099"]))
    assert list(response.context["form"].errors) == ["open_interfaces"]
    response = api_as(editor).post("/api/contracts/", api_data(supplier, open_interfaces=["ETSI GS QKD 099"]),
                                   format="json")
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["open_interfaces"]
    response = api_as(editor).post("/api/contracts/", api_data(supplier, open_interfaces="ETSI GS QKD 014"),
                                   format="json")
    assert response.status_code == 400
    assert not Contract.objects.exists()
    contract = ContractFactory.build(agency=supplier.agency, supplier=supplier, open_interfaces=["QKD-X", "other"])
    with pytest.raises(ValidationError) as refused:
        contract.full_clean()
    assert refused.value.message_dict["open_interfaces"][0].startswith("Unknown interfaces: QKD-X.")
    # Stored once each, in the catalogue's order.
    contract.open_interfaces = ["other", "ETSI GS QKD 004", "other"]
    contract.full_clean()
    assert contract.open_interfaces == ["ETSI GS QKD 004", "other"]


def test_covered_devices_and_assets_must_be_the_agencys(client, api_as, editor, supplier, other_agency):
    theirs_device = DeviceFactory(agency=other_agency, name="Their TX")
    theirs_asset = AssetFactory(agency=other_agency, name="Their link")
    ours_device = DeviceFactory(agency=supplier.agency, name="QKD-TX-CN-A")
    ours_asset = AssetFactory(agency=supplier.agency, name="QKD link Capital–Northgate")
    client.force_login(editor)
    response = client.post("/procurement/contracts/add/", form_data(supplier, devices=[theirs_device.pk],
                                                                   assets=[theirs_asset.pk]))
    assert sorted(response.context["form"].errors) == ["assets", "devices"]
    for field, value in (("devices", theirs_device.pk), ("assets", theirs_asset.pk)):
        response = api_as(editor).post("/api/contracts/", {**api_data(supplier), field: [value]}, format="json")
        assert response.status_code == 400
        assert list(response.json()["errors"]) == [field]
    assert not Contract.objects.exists()
    response = api_as(editor).post("/api/contracts/", {**api_data(supplier), "devices": [ours_device.pk],
                                                       "assets": [ours_asset.pk]}, format="json")
    assert response.status_code == 201, response.data
    contract = Contract.objects.get()
    assert list(contract.devices.all()) == [ours_device] and list(contract.assets.all()) == [ours_asset]


# --- the re-evaluation cycle -------------------------------------------------------------------

def under_reevaluation(agency, supplier, **fields):
    contract = ContractFactory(agency=agency, supplier=supplier, **fields)
    Contract.objects.filter(pk=contract.pk).update(status="under_reevaluation")
    contract.refresh_from_db()
    return contract


def test_renewal_moves_the_next_reevaluation_on_by_the_interval(api_as, admin, agency, supplier):
    contract = under_reevaluation(agency, supplier, start=days(-400), reevaluation_months=12,
                                  next_reevaluation=days(-35))
    response = api_as(admin).post(f"/api/contracts/{contract.pk}/renew/", {"reason": "Performance met the SLA."},
                                  format="json")
    assert response.status_code == 200, response.data
    contract.refresh_from_db()
    assert contract.status == "renewed"
    assert contract.next_reevaluation == days(-35).replace(year=days(-35).year + 1)
    assert contract.status_note == "Performance met the SLA."


def test_the_cycle_keeps_its_anchor_and_skips_whole_intervals():
    contract = Contract(start=datetime.date(2024, 1, 31), reevaluation_months=6,
                        next_reevaluation=datetime.date(2025, 1, 31))
    today = datetime.date(2026, 3, 1)  # two cycles missed
    assert contract_next_reevaluation(contract, today=today) == datetime.date(2026, 7, 31)
    assert contract_next_reevaluation(contract, today=datetime.date(2025, 1, 30)) == datetime.date(2025, 7, 31)
    contract.reevaluation_months = None  # no cycle: a passed date is cleared, a future one kept
    assert contract_next_reevaluation(contract, today=today) is None
    assert contract_next_reevaluation(contract, today=datetime.date(2025, 1, 1)) == datetime.date(2025, 1, 31)


def test_renewal_is_refused_while_the_sunset_has_passed_until_new_dates_are_set(client, api_as, admin, agency,
                                                                                supplier):
    contract = under_reevaluation(agency, supplier, start=days(-800), sunset_date=days(-3), end=days(100),
                                  reevaluation_months=12, next_reevaluation=days(-70))
    response = api_as(admin).post(f"/api/contracts/{contract.pk}/renew/", {"reason": "Renew."}, format="json")
    assert response.status_code == 409
    message = f"The sunset date ({days(-3).isoformat()}) has passed: edit the contract to set the new sunset date"
    assert message in str(response.json())
    contract.refresh_from_db()
    assert (contract.status, contract.next_reevaluation) == ("under_reevaluation", days(-70))
    # The page says why, and the button is disabled.
    client.force_login(admin)
    page = client.get(contract.get_absolute_url()).content.decode()
    assert "disabled>Renew</button>" in page
    confirm = client.post(f"/procurement/contracts/{contract.pk}/renew/", {"reason": "Renew.",
                                                                           "version": contract.version})
    assert confirm.status_code == 200 and message in confirm.content.decode()
    # With the new dates edited in, renewal goes through.
    response = api_as(admin).patch(f"/api/contracts/{contract.pk}/", {"sunset_date": days(700).isoformat(),
                                                                     "end": days(900).isoformat()}, format="json")
    assert response.status_code == 200, response.data
    response = api_as(admin).post(f"/api/contracts/{contract.pk}/renew/", {"reason": "Renewed for two years."},
                                  format="json")
    assert response.status_code == 200, response.data
    contract.refresh_from_db()
    assert contract.status == "renewed" and contract.next_reevaluation == days(-70).replace(year=days(-70).year + 1)


def test_an_end_date_in_the_past_blocks_renewal_too(api_as, admin, agency, supplier):
    contract = under_reevaluation(agency, supplier, start=days(-800), sunset_date=days(-30), end=days(-2))
    response = api_as(admin).post(f"/api/contracts/{contract.pk}/renew/", {"reason": "Renew."}, format="json")
    assert response.status_code == 409
    assert "The end date" in str(response.json()) and "The sunset date" in str(response.json())


# --- the contract page ------------------------------------------------------------------------

def test_the_contract_page_shows_supplier_coverage_interfaces_terms_dues_and_actions(client, admin, agency,
                                                                                   supplier):
    device = DeviceFactory(agency=agency, name="QKD-TX-CN-A")
    asset = AssetFactory(agency=agency, name="QKD link Capital–Northgate")
    contract = ContractFactory(agency=agency, supplier=supplier, reference="CT-7", start=days(-300),
                               end=days(400), sunset_date=days(45), reevaluation_months=12,
                               next_reevaluation=days(-5), open_interfaces=["ETSI GS QKD 004", "ITU-T Y.3800 series"],
                               escrow_terms="Source code with NCC Group escrow, released on insolvency.",
                               exit_plan="Keys re-established over the PQC fallback; 90-day transition support.")
    contract.devices.set([device])
    contract.assets.set([asset])
    Contract.objects.filter(pk=contract.pk).update(status="active")
    client.force_login(admin)
    response = client.get(contract.get_absolute_url())
    assert response.status_code == 200
    assert [(d.name, d.days_left) for d in response.context["dues"]] == [
        ("reevaluation", -5), ("sunset", 45), ("end", 400)]
    html = response.content.decode()
    for text in ("Photonica Quantum AG", "QKD-TX-CN-A", "QKD link Capital–Northgate",
                 "ETSI GS QKD 004 (application interface)", "ITU-T Y.3800 series (QKD network framework",
                 "Source code with NCC Group escrow", "90-day transition support", "5 days overdue",
                 "45 days left", "400 days left", ">Start re-evaluation<", ">Begin exit<"):
        assert text in html, text
    assert html.count('class="badge text-bg-primary') == 2
    ended = ContractFactory(agency=agency, supplier=supplier, reference="CT-8")
    Contract.objects.filter(pk=ended.pk).update(status="ended")
    assert "Nothing due while the contract is in this state." in client.get(ended.get_absolute_url()).content.decode()


def test_the_contract_page_query_count_does_not_grow_with_coverage(client, admin, agency, supplier,
                                                                  django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    contract = ContractFactory(agency=agency, supplier=supplier)
    client.force_login(admin)
    client.get(contract.get_absolute_url())
    with CaptureQueriesContext(connection) as few:
        client.get(contract.get_absolute_url())
    contract.devices.set([DeviceFactory(agency=agency) for _ in range(4)])
    contract.assets.set([AssetFactory(agency=agency) for _ in range(4)])
    with CaptureQueriesContext(connection) as many:
        client.get(contract.get_absolute_url())
    assert len(many) == len(few)


# --- the contracts due list ----------------------------------------------------------------------

@pytest.fixture
def book(agency, other_agency, supplier):
    """Contracts at every distance from their dates, in every state."""
    def make(reference, status, **dates):
        contract = ContractFactory(agency=dates.pop("agency", agency), reference=reference,
                                   supplier=dates.pop("supplier", supplier), start=days(-700),
                                   end=dates.pop("end", days(1000)), sunset_date=dates.pop("sunset", days(900)),
                                   next_reevaluation=dates.pop("reevaluation", None), reevaluation_months=None)
        Contract.objects.filter(pk=contract.pk).update(status=status)
        return contract

    return {
        "sunset-soon": make("CT-SUNSET-50", "active", sunset=days(50)),
        "reeval-overdue": make("CT-REEVAL-LATE", "renewed", reevaluation=days(-12)),
        "end-170": make("CT-END-170", "exiting", end=days(170), sunset=days(160)),
        "far": make("CT-FAR", "active", sunset=days(300)),
        "draft": make("CT-DRAFT", "draft", sunset=days(20)),
        "ended": make("CT-ENDED", "ended", end=days(10), sunset=days(5)),
        # Under re-evaluation: the re-evaluation is being done, so only its sunset and end count.
        "reevaluating": make("CT-UNDER", "under_reevaluation", reevaluation=days(-100), sunset=days(400),
                             end=days(500)),
        "theirs": make("CT-THEIRS", "active", sunset=days(10), agency=other_agency,
                       supplier=SupplierFactory(agency=other_agency)),
    }


def test_the_due_list_shows_live_contracts_within_the_horizon_soonest_first(client, agency, member_of, book):
    client.force_login(member_of(agency))
    response = client.get("/procurement/contracts/due/")
    assert response.status_code == 200
    rows = [(contract.reference, [(d.name, d.days_left) for d in dues]) for contract, dues in response.context["rows"]]
    # The exiting contract's sunset is no longer chased: it is leaving anyway; its end is.
    assert rows == [("CT-REEVAL-LATE", [("reevaluation", -12)]), ("CT-SUNSET-50", [("sunset", 50)]),
                    ("CT-END-170", [("end", 170)])]
    html = response.content.decode()
    assert "12 days overdue" in html and 'class="table-danger"' in html
    assert response.context["overdue_count"] == 1
    wider = client.get("/procurement/contracts/due/?within=365")
    assert [c.reference for c, _d in wider.context["rows"]] == ["CT-REEVAL-LATE", "CT-SUNSET-50", "CT-END-170",
                                                                "CT-FAR"]
    narrow = client.get("/procurement/contracts/due/?within=30")
    assert [c.reference for c, _d in narrow.context["rows"]] == ["CT-REEVAL-LATE"]
    # A value not on offer falls back to the default horizon.
    assert len(client.get("/procurement/contracts/due/?within=7").context["rows"]) == 3


def test_the_due_list_is_in_the_section_navigation(client, agency, member_of):
    client.force_login(member_of(agency))
    links = client.get("/procurement/contracts/due/").context["section_navigation"]
    assert ("Contracts due", True) in [(str(link["label"]), link["active"]) for link in links]


def test_the_due_list_query_count_is_pinned(client, agency, member_of, supplier, django_assert_num_queries):
    client.force_login(member_of(agency))
    ContractFactory(agency=agency, supplier=supplier, sunset_date=days(30))
    Contract.objects.update(status="active")
    with django_assert_num_queries(6):
        assert len(client.get("/procurement/contracts/due/").context["rows"]) == 1
    for n in range(4):
        ContractFactory(agency=agency, supplier=SupplierFactory(agency=agency), sunset_date=days(31 + n))
    Contract.objects.update(status="active")
    with django_assert_num_queries(6):
        assert len(client.get("/procurement/contracts/due/").context["rows"]) == 5


# --- reminders through the core ----------------------------------------------------------------------

def test_a_contract_sunset_is_reminded_to_its_owner_and_the_admins(agency, member_of, supplier,
                                                                   django_capture_on_commit_callbacks):
    owner = member_of(agency, RoleChoices.EDITOR, username="owner")
    member_of(agency, RoleChoices.ADMIN, username="admin")
    due = datetime.date(2027, 6, 30)
    contract = ContractFactory(agency=agency, supplier=supplier, reference="CT-QKD-1", owner=owner,
                               start=datetime.date(2024, 7, 1), end=datetime.date(2028, 6, 30), sunset_date=due)
    Contract.objects.filter(pk=contract.pk).update(status="active")
    with django_capture_on_commit_callbacks(execute=True):
        sent = due_reminders_send(today=due - datetime.timedelta(days=90))
    assert sent == 1
    title = f"Contract sunset in 90 days: {contract}"
    assert [n.title for n in Notification.objects.filter(user__username="owner")] == [title]
    assert [n.title for n in Notification.objects.filter(user__username="admin")] == [title]
    # Once exiting, the sunset is no longer chased.
    Contract.objects.filter(pk=contract.pk).update(status="exiting")
    with django_capture_on_commit_callbacks(execute=True):
        assert due_reminders_send(today=due - datetime.timedelta(days=30)) == 0
