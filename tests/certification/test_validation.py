"""Bad input of the issue: clear errors naming the field, nothing written — through the API and
through model validation; and the scheme's validity rule gives the default expiry."""

import datetime

import pytest
from django.core.exceptions import ValidationError

from certification.models import Device, DeviceCertification, PersonnelAccreditation
from qgov.choices import RoleChoices
from tests.certification.factories import (
    ClearanceSchemeFactory,
    DeviceFactory,
    FipsSchemeFactory,
    PersonFactory,
    SchemeFactory,
)

ISSUED = datetime.date(2026, 1, 15)


@pytest.fixture
def editor(agency, member_of):
    return member_of(agency, RoleChoices.EDITOR)


def cert_payload(agency, **changes):
    payload = {"agency": agency.pk, "device": DeviceFactory(agency=agency).pk,
               "scheme": SchemeFactory(code="CC-BSI").pk, "level": "EAL4+",
               "certificate_id": "BSI-DSZ-CC-0001", "issued": "2026-01-15"}
    return {**payload, **changes}


def post(api_as, user, path, payload):
    return api_as(user).post(path, payload, format="json")


# --- through the API: 400 naming the field, nothing written -----------------------------------------

@pytest.mark.parametrize(("changes", "field", "message"), [
    ({"expires": "2026-01-14"}, "expires", "The expiry must be after the issue date."),
    ({"level": "EAL8"}, "level", "CC-BSI has no level “EAL8”; its levels are EAL1, EAL2, EAL2+, EAL3, EAL3+, EAL4, "
                                 "EAL4+, EAL5, EAL5+, EAL6, EAL6+, EAL7, EAL7+."),
    ({"firmware_sha256": "not-a-hash"}, "firmware_sha256",
     "Give the hash as 64, 96 or 128 hexadecimal characters (SHA-256, SHA-384 or SHA-512)."),
])
def test_bad_certification_input_is_a_400_naming_the_field(changes, field, message, agency, editor, api_as):
    response = post(api_as, editor, "/api/device-certifications/", cert_payload(agency, **changes))
    assert response.status_code == 400
    assert response.json()["errors"] == {field: [message]}
    assert DeviceCertification.objects.count() == 0


def test_a_device_of_another_agency_is_refused(agency, other_agency, editor, api_as):
    response = post(api_as, editor, "/api/device-certifications/",
                    cert_payload(agency, device=DeviceFactory(agency=other_agency).pk))
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["device"]
    assert DeviceCertification.objects.count() == 0


def test_a_person_of_another_agency_is_refused(agency, other_agency, editor, api_as):
    response = post(api_as, editor, "/api/personnel-accreditations/", {
        "agency": agency.pk, "person": PersonFactory(agency=other_agency).pk, "scheme": ClearanceSchemeFactory().pk,
        "level": "SC", "issued": "2026-01-15", "review_due": "2031-01-15"})
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["person"]
    assert PersonnelAccreditation.objects.count() == 0


def test_a_duplicate_serial_for_one_vendor_is_a_field_error(agency, other_agency, editor, api_as):
    DeviceFactory(agency=agency, name="QKD-TX-01", vendor="Photonica", serial="SN-1")
    DeviceFactory(agency=other_agency, vendor="Photonica", serial="SN-2")  # another agency's: no clash, no leak
    payload = {"agency": agency.pk, "name": "QKD-TX-02", "kind": "qkd_transmitter", "vendor": "photonica",
               "model": "QX", "serial": "SN-1"}
    response = post(api_as, editor, "/api/devices/", payload)
    assert response.status_code == 400
    assert response.json()["errors"] == {"serial": ["photonica serial SN-1 is already registered (QKD-TX-01)."]}
    assert Device.objects.filter(agency=agency).count() == 1
    response = post(api_as, editor, "/api/devices/", {**payload, "serial": "SN-2"})
    assert response.status_code == 201
    response = post(api_as, editor, "/api/devices/", {**payload, "name": "X", "vendor": "Quantix", "serial": "SN-1"})
    assert response.status_code == 201


def test_a_device_firmware_hash_that_is_not_hex_is_refused(agency, editor, api_as):
    response = post(api_as, editor, "/api/devices/", {
        "agency": agency.pk, "name": "HSM-1", "kind": "pqc_hsm", "vendor": "V", "model": "M", "serial": "1",
        "firmware_sha256": "zz" * 32})
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["firmware_sha256"]
    assert Device.objects.count() == 0


def test_a_duplicate_certificate_id_is_a_field_error(agency, editor, api_as):
    assert post(api_as, editor, "/api/device-certifications/", cert_payload(agency)).status_code == 201
    response = post(api_as, editor, "/api/device-certifications/", cert_payload(agency))
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "certificate_id": ["This agency already records certificate BSI-DSZ-CC-0001 of this scheme."]}


def test_a_personnel_scheme_is_refused_for_a_device(agency, editor, api_as):
    response = post(api_as, editor, "/api/device-certifications/",
                    cert_payload(agency, scheme=ClearanceSchemeFactory().pk, level="SC"))
    assert response.status_code == 400
    assert response.json()["errors"] == {"scheme": ["Choose a device scheme."]}


# --- through model validation ---------------------------------------------------------------------

def build(agency, **changes):
    fields = {"agency": agency, "device": DeviceFactory(agency=agency), "scheme": SchemeFactory(code="CC-BSI"),
              "level": "EAL4+", "certificate_id": "C-1", "issued": ISSUED}
    return DeviceCertification(**{**fields, **changes})


@pytest.mark.parametrize(("changes", "field"), [
    ({"expires": ISSUED}, "expires"),
    ({"level": "EAL4++"}, "level"),
    ({"firmware_sha256": "g" * 64}, "firmware_sha256"),
])
def test_model_validation_names_the_field(changes, field, agency):
    with pytest.raises(ValidationError) as error:
        build(agency, **changes).full_clean()
    assert list(error.value.message_dict) == [field]


def test_model_validation_refuses_a_device_of_another_agency(agency, other_agency):
    with pytest.raises(ValidationError) as error:
        build(agency, device=DeviceFactory(agency=other_agency)).full_clean()
    assert error.value.message_dict == {"device": ["Choose a device of this agency."]}


def test_model_validation_refuses_a_duplicate_serial(agency):
    DeviceFactory(agency=agency, vendor="Photonica", serial="S-1", name="First")
    with pytest.raises(ValidationError) as error:
        Device(agency=agency, name="Second", kind="qrng", vendor="Photonica", model="Q", serial="S-1").full_clean()
    assert error.value.message_dict == {"serial": ["Photonica serial S-1 is already registered (First)."]}


# --- validity rules -------------------------------------------------------------------------------

def test_fixed_validity_gives_five_years_and_interim_two(agency):
    fips = FipsSchemeFactory()
    full = build(agency, scheme=fips, level="Level 3")
    full.full_clean()
    interim = build(agency, scheme=fips, level="Level 3", interim=True, certificate_id="C-2")
    interim.full_clean()
    assert (full.expires, interim.expires) == (datetime.date(2031, 1, 15), datetime.date(2028, 1, 15))
    assert full.level_rank == 3


def test_a_maximum_validity_is_the_default_and_the_limit(agency):
    eucc = SchemeFactory(code="EUCC", family="eucc", levels=["substantial", "high"], validity_rule="maximum",
                         validity_years=5)
    default = build(agency, scheme=eucc, level="high")
    default.full_clean()
    assert default.expires == datetime.date(2031, 1, 15)
    build(agency, scheme=eucc, level="high", expires=datetime.date(2029, 6, 30)).full_clean()  # less is fine
    with pytest.raises(ValidationError) as error:
        build(agency, scheme=eucc, level="high", expires=datetime.date(2031, 1, 16)).full_clean()
    assert error.value.message_dict == {"expires": [
        "EUCC certificates are valid for at most 5 years: the expiry may be 2031-01-15 at the latest."]}


def test_a_review_rule_sets_a_review_date_and_no_expiry(agency):
    certificate = build(agency)
    certificate.full_clean()
    assert (certificate.expires, certificate.review_due) == (None, datetime.date(2031, 1, 15))


def test_a_stated_expiry_takes_the_place_of_the_review(agency):
    # The scheme would review at issue + 5 years; a certificate that ends before then is not reviewed.
    certificate = build(agency, expires=datetime.date(2027, 12, 31))
    certificate.full_clean()
    assert (certificate.expires, certificate.review_due) == (datetime.date(2027, 12, 31), None)
    certificate = build(agency, expires=datetime.date(2027, 12, 31), review_due=datetime.date(2028, 1, 1))
    with pytest.raises(ValidationError) as error:
        certificate.full_clean()
    assert error.value.message_dict == {"review_due": [
        "The review date falls after the expiry (2027-12-31); leave it empty or set it earlier."]}


def test_a_per_certificate_rule_needs_a_date(agency):
    person = PersonFactory(agency=agency)
    nsv = ClearanceSchemeFactory()
    accreditation = PersonnelAccreditation(agency=agency, person=person, scheme=nsv, level="SC", issued=ISSUED)
    with pytest.raises(ValidationError) as error:
        accreditation.full_clean()
    assert list(error.value.message_dict) == ["expires"]
    accreditation.review_due = datetime.date(2033, 1, 1)
    accreditation.full_clean()
    assert accreditation.level_rank == 3
