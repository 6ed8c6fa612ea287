"""Certification as staff see it in the browser: lists and their filters, the device and person
pages with every compliance reason, the forms' refusals, revoking through the UI, the compliance
dashboard and its panel."""

import datetime
import zoneinfo
from urllib.parse import parse_qs, urlsplit

import pytest
from django.utils import timezone

from certification.models import Device, DeviceCertification, PersonnelAccreditation, RequiredScheme
from qgov.choices import RoleChoices
from tests.certification.factories import (
    ArrangementFactory,
    ClearanceSchemeFactory,
    DeviceCertificationFactory,
    DeviceFactory,
    FipsSchemeFactory,
    PersonFactory,
    PersonnelAccreditationFactory,
    RecognitionFactory,
    RequiredSchemeFactory,
    SchemeFactory,
)
from tests.risks.factories import AssetFactory

TODAY = timezone.localdate(timezone=zoneinfo.ZoneInfo("Europe/Brussels"))  # the factories' agency zone


def days(n):
    return TODAY + datetime.timedelta(days=n)


@pytest.fixture
def fleet(agency, other_agency):
    """QKD transmitters that must hold BSI-CC EAL4; one of each compliance state, a QRNG nothing
    is required of, key custodians that must hold SC, and one device of another agency."""
    cc = SchemeFactory(code="BSI-CC", name="BSI Common Criteria")
    fips = FipsSchemeFactory()
    nsv = ClearanceSchemeFactory(code="UK-NSV")
    RequiredSchemeFactory(agency=agency, scheme=cc, min_level="EAL4", device_kind="qkd_transmitter")
    RequiredSchemeFactory(agency=agency, scheme=nsv, min_level="SC", device_kind="", personnel_role="key_custodian")
    link = AssetFactory(agency=agency, name="Capital–Northgate QKD link")
    good = DeviceFactory(agency=agency, name="TX-Good", serial="S1")
    good.assets.set([link])
    soon = DeviceFactory(agency=agency, name="TX-Soon", serial="S2")
    bare = DeviceFactory(agency=agency, name="TX-Bare", serial="S3")
    qrng = DeviceFactory(agency=agency, name="QRNG-1", kind="qrng", serial="S4")
    good_cert = DeviceCertificationFactory(agency=agency, device=good, scheme=cc, level="EAL4+",
                                           certificate_id="BSI-DSZ-CC-1001", expires=days(900))
    soon_cert = DeviceCertificationFactory(agency=agency, device=soon, scheme=cc, level="EAL4",
                                           certificate_id="BSI-DSZ-CC-1002", expires=days(30))
    alice = PersonFactory(agency=agency, name="Alice Key", role="key_custodian")
    bob = PersonFactory(agency=agency, name="Bob Key", role="key_custodian")
    alice_sc = PersonnelAccreditationFactory(agency=agency, person=alice, scheme=nsv, level="SC",
                                             credential_id="NSV-1", expires=days(60))
    theirs = DeviceFactory(agency=other_agency, name="Their TX", serial="S9")
    their_cert = DeviceCertificationFactory(agency=other_agency, device=theirs, scheme=cc, level="EAL4")
    return {"cc": cc, "fips": fips, "nsv": nsv, "link": link, "good": good, "soon": soon, "bare": bare, "qrng": qrng,
            "good_cert": good_cert, "soon_cert": soon_cert, "alice": alice, "bob": bob, "alice_sc": alice_sc,
            "theirs": theirs, "their_cert": their_cert}


def names(page):
    return sorted(str(row) for row in page.context["table"].data)


# --- every page -------------------------------------------------------------------------------

LISTS = ["/certification/devices/", "/certification/certifications/", "/certification/personnel/",
         "/certification/accreditations/", "/certification/required-schemes/", "/certification/schemes/",
         "/certification/arrangements/", "/certification/recognitions/", "/certification/compliance/"]


def test_every_page_renders_for_a_viewer_and_other_agencies_records_are_404(client, agency, member_of, fleet):
    RecognitionFactory(arrangement=ArrangementFactory(code="SOGIS"), scheme=fleet["cc"], max_level="EAL4")
    client.force_login(member_of(agency, RoleChoices.VIEWER))
    for url in LISTS:
        assert client.get(url).status_code == 200, url
    records = [fleet["good"], fleet["good_cert"], fleet["alice"], fleet["alice_sc"], fleet["cc"],
               fleet["cc"].recognitions.get().arrangement, fleet["cc"].recognitions.get()]
    records.append(RequiredScheme.objects.filter(agency=agency).first())
    for record in records:
        assert client.get(record.get_absolute_url()).status_code == 200, record
    for record in (fleet["theirs"], fleet["their_cert"]):
        assert client.get(record.get_absolute_url()).status_code == 404
        assert client.get(f"{record.get_absolute_url()}history/").status_code == 404


def test_add_and_history_pages_render_for_an_admin(client, agency, member_of, fleet):
    client.force_login(member_of(agency, RoleChoices.ADMIN))
    for url in ["/certification/devices/add/", "/certification/certifications/add/", "/certification/personnel/add/",
                "/certification/accreditations/add/", "/certification/required-schemes/add/"]:
        assert client.get(url).status_code == 200, url
    for record in (fleet["good"], fleet["good_cert"], fleet["alice"], fleet["alice_sc"]):
        assert client.get(f"{record.get_absolute_url()}edit/").status_code == 200
        assert client.get(f"{record.get_absolute_url()}history/").status_code == 200
    assert client.get(f"{fleet['theirs'].get_absolute_url()}edit/").status_code == 404


def test_lists_export_csv(client, agency, member_of, fleet):
    client.force_login(member_of(agency, RoleChoices.EDITOR))
    response = client.get("/certification/devices/", {"export": "csv"})
    lines = b"".join(response.streaming_content if response.streaming else [response.content]).decode().splitlines()
    assert lines[0].endswith("Compliance")
    assert sorted(line.split(",")[0] for line in lines[1:]) == ["QRNG-1", "TX-Bare", "TX-Good", "TX-Soon"]
    assert [line.rsplit(",", 1)[1] for line in lines[1:] if line.startswith("TX-Bare")] == ["Non-compliant"]


# --- query counts -----------------------------------------------------------------------------

def _certifications(agency, n):
    return [DeviceCertificationFactory(agency=agency) for _ in range(n)]


def _accreditations(agency, n):
    return [PersonnelAccreditationFactory(agency=agency) for _ in range(n)]


def _requirements(agency, n):
    kinds = ["qkd_transmitter", "qkd_receiver", "trusted_node", "qrng", "pqc_hsm"]
    return [RequiredSchemeFactory(agency=agency, device_kind=kind) for kind in kinds[:n]]


@pytest.mark.parametrize(("url", "make", "queries"), [
    # session, user, active agency, memberships, notifications, count, the page; the sidebar's record
    # filters: each one's ids, then its choices
    ("/certification/devices/", _certifications, 11),
    ("/certification/certifications/", _certifications, 11),
    ("/certification/personnel/", _accreditations, 11),
    ("/certification/accreditations/", _accreditations, 11),
    ("/certification/required-schemes/", _requirements, 9),
])
def test_list_query_counts_are_pinned_and_do_not_grow_with_rows(client, agency, member_of,
                                                                 django_assert_num_queries, url, make, queries):
    client.force_login(member_of(agency))
    make(agency, 1)
    with django_assert_num_queries(queries):
        assert len(client.get(url).context["table"].rows) == 1
    make(agency, 4)
    with django_assert_num_queries(queries):
        assert len(client.get(url).context["table"].rows) == 5


def test_compliance_page_queries_are_constant(client, agency, member_of, fleet):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(member_of(agency))
    client.get("/certification/compliance/")
    with CaptureQueriesContext(connection) as few:
        client.get("/certification/compliance/")
    for n in range(5):
        DeviceFactory(agency=agency, name=f"TX-More-{n}")
        PersonFactory(agency=agency, role="key_custodian")
        DeviceCertificationFactory(agency=agency, expires=days(10 + n))
    with CaptureQueriesContext(connection) as many:
        client.get("/certification/compliance/")
    assert len(many) == len(few)


# --- filters ----------------------------------------------------------------------------------

def test_list_filters_return_exactly_the_expected_records(client, agency, member_of, fleet):
    client.force_login(member_of(agency))
    assert names(client.get("/certification/devices/", {"compliance": "non_compliant"})) == ["TX-Bare"]
    assert names(client.get("/certification/devices/", {"compliance": "expiring"})) == ["TX-Soon"]
    assert names(client.get("/certification/devices/", {"compliance": ["compliant", "not_required"]})) == [
        "QRNG-1", "TX-Good"]
    assert names(client.get("/certification/devices/", {"expiring": "true"})) == ["TX-Soon"]
    assert names(client.get("/certification/devices/", {"kind": "qrng"})) == ["QRNG-1"]
    assert names(client.get("/certification/devices/", {"scheme": fleet["cc"].pk})) == ["TX-Good", "TX-Soon"]
    certificates = client.get("/certification/certifications/", {"expires_within": 45})
    assert [c.certificate_id for c in certificates.context["table"].data] == ["BSI-DSZ-CC-1002"]
    assert [c.certificate_id for c in client.get("/certification/certifications/", {"expires_within": 1000})
            .context["table"].data] == ["BSI-DSZ-CC-1001", "BSI-DSZ-CC-1002"]
    assert names(client.get("/certification/personnel/", {"compliance": "non_compliant"})) == ["Bob Key"]
    assert names(client.get("/certification/personnel/", {"compliance": "expiring"})) == ["Alice Key"]
    accreditations = client.get("/certification/accreditations/", {"expires_within": 90}).context["table"].data
    assert [a.credential_id for a in accreditations] == ["NSV-1"]


def test_filter_sidebars_offer_the_agencys_records_only_and_schemes_by_kind(client, agency, member_of, fleet):
    client.force_login(member_of(agency))
    form = client.get("/certification/certifications/").context["filter"].form
    assert [str(d) for d in form.fields["device"].queryset] == ["QRNG-1", "TX-Bare", "TX-Good", "TX-Soon"]
    assert sorted(s.code for s in form.fields["scheme"].queryset) == ["BSI-CC", "CMVP-FIPS140-3"]
    html = client.get("/certification/certifications/").content.decode()
    assert "Their TX" not in html


# --- forms refuse bad input -------------------------------------------------------------------

def certification_data(fleet, **changes):
    return {"device": fleet["bare"].pk, "scheme": fleet["cc"].pk, "level": "EAL4", "certificate_id": "BSI-NEW-1",
            "issued": days(-10).isoformat(), "expires": days(700).isoformat(), **changes}


@pytest.mark.parametrize(("changes", "field", "message"), [
    ({"expires": days(-20).isoformat()}, "expires", "The expiry must be after the issue date."),
    ({"level": "EAL9"}, "level", "BSI-CC has no level “EAL9”; its levels are"),
    ({"device": "their"}, "device", "Select a valid choice."),
])
def test_certification_form_refuses_bad_input_and_writes_nothing(client, agency, member_of, fleet, changes, field,
                                                                 message):
    if changes.get("device") == "their":
        changes["device"] = fleet["theirs"].pk
    client.force_login(member_of(agency, RoleChoices.EDITOR))
    before = DeviceCertification.objects.count()
    response = client.post("/certification/certifications/add/", certification_data(fleet, **changes))
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert list(errors) == [field], errors
    assert errors[field][0].startswith(message)
    assert DeviceCertification.objects.count() == before


def test_certification_form_accepts_good_input(client, agency, member_of, fleet):
    client.force_login(member_of(agency, RoleChoices.EDITOR))
    response = client.post("/certification/certifications/add/", certification_data(fleet))
    created = DeviceCertification.objects.get(certificate_id="BSI-NEW-1")
    assert response.status_code == 302 and response["Location"] == created.get_absolute_url()
    assert (created.agency, created.device, created.level_rank, created.status) == (agency, fleet["bare"], 6,
                                                                                   "pending")


def test_device_form_refuses_a_duplicate_serial_for_the_vendor(client, agency, member_of, fleet):
    client.force_login(member_of(agency, RoleChoices.EDITOR))
    before = Device.objects.count()
    response = client.post("/certification/devices/add/", {
        "name": "TX-Copy", "kind": "qkd_transmitter", "vendor": "photonica", "model": "QX-100", "serial": "S1"})
    assert response.status_code == 200
    assert response.context["form"].errors["serial"] == ["photonica serial S1 is already registered (TX-Good)."]
    bad_hash = client.post("/certification/devices/add/", {
        "name": "TX-Hash", "kind": "qkd_transmitter", "vendor": "Photonica", "model": "QX-100", "serial": "S77",
        "firmware_sha256": "not-hex"})
    assert list(bad_hash.context["form"].errors) == ["firmware_sha256"]
    assert Device.objects.count() == before


def test_accreditation_form_offers_personnel_schemes_and_their_levels(client, agency, member_of, fleet):
    client.force_login(member_of(agency, RoleChoices.EDITOR))
    page = client.get("/certification/accreditations/add/", {"person": fleet["bob"].pk})
    form = page.context["form"]
    assert [s.code for s in form.fields["scheme"].queryset] == ["UK-NSV"]
    assert form.initial["person"] == str(fleet["bob"].pk)
    html = page.content.decode()
    assert f'data-levels="{{&quot;{fleet["nsv"].pk}&quot;: [&quot;BPSS&quot;' in html
    assert '<optgroup label="UK-NSV">' in html and '<optgroup label="BSI-CC">' not in html
    assert "/static/certification/levels.js" in html
    before = PersonnelAccreditation.objects.count()
    refused = client.post("/certification/accreditations/add/", {
        "person": fleet["bob"].pk, "scheme": fleet["cc"].pk, "level": "EAL4", "issued": days(-1).isoformat(),
        "expires": days(300).isoformat()})
    assert list(refused.context["form"].errors) == ["scheme"]
    assert PersonnelAccreditation.objects.count() == before


# --- transitions, the banner and the risk it offers -------------------------------------------

def test_revoking_through_the_ui_flags_the_dependent_assets_and_offers_a_prefilled_risk(client, agency, member_of,
                                                                                        fleet):
    cert = fleet["good_cert"]
    admin = member_of(agency, RoleChoices.ADMIN)
    client.force_login(admin)
    device_page = client.get(fleet["good"].get_absolute_url()).content.decode()
    assert 'data-testid="assets-flagged"' not in device_page
    confirm = client.get(f"{cert.get_absolute_url()}revoke/")
    assert confirm.status_code == 200
    no_reason = client.post(f"{cert.get_absolute_url()}revoke/", {"version": cert.version})
    assert no_reason.context["form"].errors["reason"]
    cert.refresh_from_db()
    assert cert.status == "valid"
    done = client.post(f"{cert.get_absolute_url()}revoke/",
                       {"version": cert.version, "reason": "Vendor withdrew the evaluated configuration."})
    assert done.status_code == 302
    cert.refresh_from_db()
    assert (cert.status, cert.status_note) == ("revoked", "Vendor withdrew the evaluated configuration.")

    page = client.get(fleet["good"].get_absolute_url())
    html = page.content.decode()
    assert "Certificate BSI-CC BSI-DSZ-CC-1001 is revoked." in html
    assert "The asset that depends on this device is flagged:" in html
    assert page.context["compliance"] == "Non-compliant"
    assert [reason for _f, _c, reason in page.context["findings"]] == ["Certificate revoked"]
    (flagged, risk_url), = page.context["lost"]
    assert flagged == cert and risk_url in html.replace("&amp;", "&")
    query = parse_qs(urlsplit(risk_url).query)
    assert query["assets"] == [str(fleet["link"].pk)]

    risk_form = client.get(risk_url).context["form"]
    assert risk_form.initial["title"] == "TX-Good: BSI-CC certificate BSI-DSZ-CC-1001 revoked"
    assert risk_form.initial["assets"] == [str(fleet["link"].pk)]
    cert_page = client.get(cert.get_absolute_url()).content.decode()
    assert "This certificate is revoked; it no longer counts for compliance." in cert_page


def test_viewers_see_the_banner_without_the_risk_button(client, agency, member_of, fleet):
    DeviceCertificationFactory(agency=agency, device=fleet["bare"], scheme=fleet["cc"], level="EAL4",
                               certificate_id="SUSP-1", status="suspended")
    client.force_login(member_of(agency, RoleChoices.VIEWER))
    html = client.get(fleet["bare"].get_absolute_url()).content.decode()
    assert "Certificate BSI-CC SUSP-1 is suspended." in html
    assert "No asset is linked to this device yet." in html
    assert "Open a register risk" not in html


def _anssi_certificate(agency, device, **fields):
    sogis = ArrangementFactory(code="SOG-IS", member_jurisdictions=["DE", "FR"])
    anssi = SchemeFactory(code="ANSSI-CC", jurisdictions=["FR"])
    RecognitionFactory(arrangement=sogis, scheme=anssi, max_level="EAL4")
    return DeviceCertificationFactory(agency=agency, device=device, scheme=anssi, level="EAL4",
                                      certificate_id="ANSSI-1", **fields)


def test_device_page_shows_every_reason(client, agency, member_of, fleet):
    _anssi_certificate(agency, fleet["bare"], firmware_version="1.0")
    client.force_login(member_of(agency))
    page = client.get(fleet["bare"].get_absolute_url())
    assert page.context["compliance"] == "Non-compliant"
    findings = [(reason, finding.message) for finding, _colour, reason in page.context["findings"]]
    assert [reason for reason, _m in findings] == [
        "Certificate not recognised in this jurisdiction at this level", "Firmware not covered by the certificate"]
    assert findings[1][1] == "ANSSI-CC EAL4 covers other firmware: version 1.0, the device runs 2.1.0."
    html = page.content.decode()
    for reason, message in findings:
        assert str(reason) in html and message in html


def test_device_page_says_under_which_arrangement_a_certificate_counts(client, agency, member_of, fleet):
    agency.jurisdiction = "DE"
    agency.save()
    _anssi_certificate(agency, fleet["bare"])
    client.force_login(member_of(agency))
    page = client.get(fleet["bare"].get_absolute_url())
    assert page.context["compliance"] == "Compliant"
    html = page.content.decode()
    assert "Met by ANSSI-CC EAL4 (ANSSI-1) (recognised under SOG-IS up to EAL4)." in html
    assert "About the SOG-IS arrangement" in html


# --- the compliance dashboard and its panel ---------------------------------------------------

def test_compliance_dashboard_content_is_exact(client, agency, member_of, fleet):
    client.force_login(member_of(agency))
    page = client.get("/certification/compliance/")
    context = page.context
    assert {str(title): [(value, n) for value, _l, n, _c in cards] for title, _u, cards in context["cards"]} == {
        "Devices": [("compliant", 1), ("expiring", 1), ("non_compliant", 1), ("not_required", 1)],
        "Personnel": [("compliant", 0), ("expiring", 1), ("non_compliant", 1), ("not_required", 0)],
    }
    assert [str(c) for c in context["expiring"]] == [str(fleet["soon_cert"]), str(fleet["alice_sc"])]
    assert [(device.name, [f.reason_code for f in findings]) for device, findings in context["devices"]] == [
        ("TX-Bare", ["missing"])]
    assert [(person.name, [f.reason_code for f in findings]) for person, findings in context["people"]] == [
        ("Bob Key", ["missing"])]
    html = page.content.decode()
    assert "No certificate under BSI-CC (or one recognised as equivalent) at EAL4 or above." in html
    assert "Their TX" not in html
    assert html.index("BSI-DSZ-CC-1002") < html.index("NSV-1")


def test_dashboard_panel_counts_and_links(client, agency, member_of, fleet):
    client.force_login(member_of(agency))
    page = client.get("/")
    panels = {str(panel.title): ctx for panel, ctx in page.context["panels"]}
    rows = {str(label): {value: n for value, _l, n, _c in counts}
            for label, counts in panels["Certification compliance"]["rows"]}
    assert rows == {"Devices": {"compliant": 1, "expiring": 1, "non_compliant": 1, "not_required": 1},
                    "Personnel": {"compliant": 0, "expiring": 1, "non_compliant": 1, "not_required": 0}}
    assert panels["Certification compliance"]["expiring"] == 2
    html = page.content.decode()
    assert 'href="/certification/devices/?compliance=non_compliant"' in html
    assert 'href="/certification/compliance/"' in html


def test_section_navigation(client, agency, member_of, fleet):
    client.force_login(member_of(agency))
    links = client.get("/certification/devices/").context["section_navigation"]
    assert [(str(link["label"]), link["active"]) for link in links] == [
        ("Compliance", False), ("Devices", True), ("Certifications", False), ("Personnel", False),
        ("Accreditations", False), ("Required schemes", False), ("Schemes", False), ("Recognition", False)]


def test_pages_do_not_fail_on_missing_optional_data(client, agency, member_of, superuser):
    client.force_login(member_of(agency))
    empty = client.get("/certification/compliance/")
    assert empty.status_code == 200
    assert "Nothing expires in this period." in empty.content.decode()
    bare = DeviceFactory(agency=agency, name="Bare", firmware_version="", firmware_sha256="", site="")
    no_expiry = DeviceCertificationFactory(agency=agency, device=bare, expires=None, status="pending")
    loner = PersonFactory(agency=agency, name="No user", email="")
    for record in (bare, no_expiry, loner):
        assert client.get(record.get_absolute_url()).status_code == 200
    assert client.get("/").status_code == 200
    client.force_login(superuser)  # a platform admin outside every agency
    for url in LISTS[:-1]:
        assert client.get(url).status_code == 200, url
    assert client.get(bare.get_absolute_url()).status_code == 200


def test_lists_offer_csv_and_xlsx_of_the_filtered_rows(client, agency, member_of, fleet):
    import io

    from openpyxl import load_workbook

    client.force_login(member_of(agency, RoleChoices.EDITOR))
    html = client.get("/certification/devices/", {"compliance": "non_compliant"}).content.decode()
    assert 'href="?compliance=non_compliant&amp;export=xlsx"' in html
    response = client.get("/certification/devices/", {"compliance": "non_compliant", "export": "xlsx"})
    content = b"".join(response.streaming_content) if response.streaming else response.content
    rows = list(load_workbook(io.BytesIO(content)).active.iter_rows(values_only=True))
    assert [(row[0], row[-1]) for row in rows[1:]] == [("TX-Bare", "Non-compliant")]


def test_compliance_page_links_to_the_due_soon_page(client, agency, member_of, fleet):
    client.force_login(member_of(agency))
    html = client.get("/certification/compliance/").content.decode()
    assert 'href="/due/?within=90"' in html
    assert 'href="/due/?within=90"' in client.get("/").content.decode()  # the panel's expiring count


def test_compliance_page_lists_the_first_and_links_to_all(client, agency, member_of, fleet):
    # A national fleet does not become one page: 25 devices shown, the count and a link to the rest.
    for n in range(30):
        DeviceFactory(agency=agency, name=f"TX-Lost-{n:02}", serial=f"L{n}")
    client.force_login(member_of(agency))
    page = client.get("/certification/compliance/")
    shown = [device.name for device, _problems in page.context["devices"]]
    assert (len(shown), shown[0], page.context["non_compliant_devices"]) == (25, "TX-Bare", 31)
    assert ('href="/certification/devices/?compliance=non_compliant">All 31 non-compliant devices'
            in page.content.decode())
