"""Each certification model's CRUD × role × agency suite (and its lifecycle checks), from the generic
test case."""

import datetime

from django.utils import timezone

from certification.models import (
    Device,
    DeviceCertification,
    Person,
    PersonnelAccreditation,
    Recognition,
    RecognitionArrangement,
    RequiredScheme,
    Scheme,
)
from qgov.testing import ModelTestSuite
from tests.certification.factories import (
    ArrangementFactory,
    ClearanceSchemeFactory,
    DeviceCertificationFactory,
    DeviceFactory,
    PersonFactory,
    PersonnelAccreditationFactory,
    RecognitionFactory,
    RequiredSchemeFactory,
    SchemeFactory,
)

ISSUED = str(timezone.localdate() - datetime.timedelta(days=100))
EXPIRES = str(timezone.localdate() + datetime.timedelta(days=700))


class TestScheme(ModelTestSuite):
    model = Scheme
    api_path = "/api/schemes/"
    list_queries = 2
    ui_list_queries = 7
    scoped = False

    def make_record(self, agency):
        return SchemeFactory()

    def create_payload(self, agency):
        return {"code": "CC-TEST", "name": "Test scheme", "kind": "device", "family": "cc", "issuing_body": "A body",
                "jurisdictions": ["DE"], "levels": ["EAL1", "EAL2"], "validity_rule": "review", "validity_years": 5,
                "citations": ["A source [V]"]}

    def update_payload(self, record):
        return {"name": "Renamed scheme"}

    def form_data(self, agency, record=None):
        return {"code": record.code if record else "CC-TEST", "name": "Test scheme", "kind": "device",
                "family": "cc", "issuing_body": "A body", "jurisdictions": '["DE"]', "levels": '["EAL1", "EAL2"]',
                "validity_rule": "review", "validity_years": "5", "citations": '["A source [V]"]'}


class TestRecognitionArrangement(ModelTestSuite):
    model = RecognitionArrangement
    api_path = "/api/recognition-arrangements/"
    list_queries = 3
    ui_list_queries = 9
    scoped = False

    def make_record(self, agency):
        return ArrangementFactory()

    def create_payload(self, agency):
        return {"code": "TEST-MRA", "name": "Test arrangement", "member_jurisdictions": ["DE", "FR"],
                "citations": ["A source [V]"]}

    def update_payload(self, record):
        return {"member_jurisdictions": ["DE", "FR", "NL"]}

    def form_data(self, agency, record=None):
        return {"code": record.code if record else "TEST-MRA", "name": "Test arrangement",
                "member_jurisdictions": '["DE", "FR"]', "citations": '["A source [V]"]'}


class TestRecognition(ModelTestSuite):
    model = Recognition
    api_path = "/api/recognitions/"
    list_queries = 2
    ui_list_queries = 11
    scoped = False

    def make_record(self, agency):
        return RecognitionFactory()

    def create_payload(self, agency):
        return {"arrangement": ArrangementFactory().pk, "scheme": SchemeFactory().pk, "max_level": "EAL4"}

    def update_payload(self, record):
        return {"max_level": "EAL2"}

    def form_data(self, agency, record=None):
        return {"arrangement": record.arrangement_id if record else ArrangementFactory().pk,
                "scheme": record.scheme_id if record else SchemeFactory().pk, "max_level": "EAL2"}


class TestDevice(ModelTestSuite):
    model = Device
    api_path = "/api/devices/"
    list_queries = 3
    ui_list_queries = 11

    def make_record(self, agency):
        return DeviceFactory(agency=agency, status="planned")

    def create_payload(self, agency):
        return {"agency": agency.pk, "name": "QKD-RX-9", "kind": "qkd_receiver", "vendor": "Photonica",
                "model": "QX-100R", "serial": "RX-0009", "firmware_version": "2.1.0", "firmware_sha256": "ab" * 32}

    def update_payload(self, record):
        return {"firmware_version": "2.2.0", "site": "Northgate"}

    def form_data(self, agency, record=None):
        return {"name": "QKD-RX-9", "kind": "qkd_receiver", "vendor": "Photonica", "model": "QX-100R",
                "serial": record.serial if record else "RX-0009", "firmware_version": "2.1.0",
                "firmware_sha256": "ab" * 32}


class TestDeviceCertification(ModelTestSuite):
    model = DeviceCertification
    api_path = "/api/device-certifications/"
    list_queries = 2
    ui_list_queries = 11

    def make_record(self, agency):
        return DeviceCertificationFactory(agency=agency, status="pending")

    def create_payload(self, agency):
        return {"agency": agency.pk, "device": DeviceFactory(agency=agency).pk, "scheme": SchemeFactory().pk,
                "level": "EAL4+", "certificate_id": "BSI-DSZ-CC-1234", "issued": ISSUED, "expires": EXPIRES}

    def update_payload(self, record):
        return {"evaluation_lab": "TÜV Informationstechnik"}

    def form_data(self, agency, record=None):
        return {"device": record.device_id if record else DeviceFactory(agency=agency).pk,
                "scheme": record.scheme_id if record else SchemeFactory().pk, "level": "EAL4+",
                "certificate_id": record.certificate_id if record else "BSI-DSZ-CC-1234", "issued": ISSUED,
                "expires": EXPIRES}


class TestPerson(ModelTestSuite):
    model = Person
    api_path = "/api/personnel/"
    list_queries = 2
    ui_list_queries = 11

    def make_record(self, agency):
        return PersonFactory(agency=agency)

    def create_payload(self, agency):
        return {"agency": agency.pk, "name": "Dana Okafor", "role": "qkd_operator", "unit": "Network operations"}

    def update_payload(self, record):
        return {"unit": "Key management"}

    def form_data(self, agency, record=None):
        return {"name": "Dana Okafor", "role": "qkd_operator", "unit": "Network operations", "active": "on"}


class TestPersonnelAccreditation(ModelTestSuite):
    model = PersonnelAccreditation
    api_path = "/api/personnel-accreditations/"
    list_queries = 2
    ui_list_queries = 11

    def make_record(self, agency):
        return PersonnelAccreditationFactory(agency=agency, status="pending")

    def create_payload(self, agency):
        return {"agency": agency.pk, "person": PersonFactory(agency=agency).pk, "scheme": ClearanceSchemeFactory().pk,
                "level": "SC", "issued": ISSUED, "review_due": EXPIRES}

    def update_payload(self, record):
        return {"credential_id": "UKSV-77"}

    def form_data(self, agency, record=None):
        return {"person": record.person_id if record else PersonFactory(agency=agency).pk,
                "scheme": record.scheme_id if record else ClearanceSchemeFactory().pk, "level": "SC",
                "issued": ISSUED, "review_due": EXPIRES}


class TestRequiredScheme(ModelTestSuite):
    model = RequiredScheme
    api_path = "/api/required-schemes/"
    list_queries = 2
    ui_list_queries = 9

    def make_record(self, agency):
        return RequiredSchemeFactory(agency=agency)

    def create_payload(self, agency):
        return {"agency": agency.pk, "scheme": SchemeFactory().pk, "min_level": "EAL4", "device_kind": "trusted_node"}

    def update_payload(self, record):
        return {"min_level": "EAL5"}

    def form_data(self, agency, record=None):
        return {"scheme": record.scheme_id if record else SchemeFactory().pk, "min_level": "EAL4",
                "device_kind": record.device_kind if record else "trusted_node"}
