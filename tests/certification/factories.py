"""factory_boy factories of the certification app."""

import datetime

import factory
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
from tests.factories import AgencyFactory

EAL_LEVELS = ["EAL1", "EAL2", "EAL2+", "EAL3", "EAL3+", "EAL4", "EAL4+", "EAL5", "EAL5+", "EAL6", "EAL6+", "EAL7",
              "EAL7+"]


class SchemeFactory(factory.django.DjangoModelFactory):
    """A Common Criteria national scheme unless told otherwise."""

    class Meta:
        model = Scheme
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"CC-T{n}")
    name = factory.LazyAttribute(lambda o: f"Common Criteria scheme {o.code}")
    kind = "device"
    family = "cc"
    issuing_body = "A certification body"
    jurisdictions = ["DE"]
    levels = EAL_LEVELS
    validity_rule = "review"
    validity_years = 5
    citations = ["A citation [V]"]


class FipsSchemeFactory(SchemeFactory):
    code = "CMVP-FIPS140-3"
    name = "CMVP FIPS 140-3"
    family = "fips140"
    jurisdictions = ["US", "CA"]
    levels = ["Level 1", "Level 2", "Level 3", "Level 4"]
    validity_rule = "fixed"
    validity_years = 5
    interim_validity_years = 2


class ClearanceSchemeFactory(SchemeFactory):
    code = factory.Sequence(lambda n: f"UK-NSV-{n}")
    name = "UK national security vetting"
    kind = "personnel"
    family = "uk-nsv"
    jurisdictions = ["GB"]
    levels = ["BPSS", "CTC", "SC", "eSC", "DV", "eDV"]
    validity_rule = "per_certificate"
    validity_years = None


class ArrangementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RecognitionArrangement
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"ARR-{n}")
    name = factory.LazyAttribute(lambda o: f"Arrangement {o.code}")
    member_jurisdictions = ["DE", "FR", "NL"]
    citations = ["A citation [V]"]


class RecognitionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Recognition

    arrangement = factory.SubFactory(ArrangementFactory)
    scheme = factory.SubFactory(SchemeFactory)
    max_level = "EAL4"
    max_level_rank = factory.LazyAttribute(lambda o: o.scheme.level_rank(o.max_level))


class DeviceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Device

    agency = factory.SubFactory(AgencyFactory)
    name = factory.Sequence(lambda n: f"QKD-TX-{n:02d}")
    kind = "qkd_transmitter"
    vendor = "Photonica"
    model = "QX-100"
    serial = factory.Sequence(lambda n: f"SN{n:05d}")
    firmware_version = "2.1.0"
    firmware_sha256 = "a" * 64
    status = "in_service"


class DeviceCertificationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DeviceCertification

    agency = factory.SubFactory(AgencyFactory)
    device = factory.SubFactory(DeviceFactory, agency=factory.SelfAttribute("..agency"))
    scheme = factory.SubFactory(SchemeFactory)
    level = "EAL4+"
    level_rank = factory.LazyAttribute(lambda o: o.scheme.level_rank(o.level))
    certificate_id = factory.Sequence(lambda n: f"CERT-{n:04d}")
    issued = factory.LazyFunction(lambda: timezone.localdate() - datetime.timedelta(days=365))
    expires = factory.LazyFunction(lambda: timezone.localdate() + datetime.timedelta(days=3 * 365))
    status = "valid"


class PersonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Person

    agency = factory.SubFactory(AgencyFactory)
    name = factory.Sequence(lambda n: f"Person {n}")
    role = "key_custodian"


class PersonnelAccreditationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PersonnelAccreditation

    agency = factory.SubFactory(AgencyFactory)
    person = factory.SubFactory(PersonFactory, agency=factory.SelfAttribute("..agency"))
    scheme = factory.SubFactory(ClearanceSchemeFactory)
    level = "SC"
    level_rank = factory.LazyAttribute(lambda o: o.scheme.level_rank(o.level))
    credential_id = factory.Sequence(lambda n: f"NSV-{n:05d}")
    issued = factory.LazyFunction(lambda: timezone.localdate() - datetime.timedelta(days=365))
    expires = factory.LazyFunction(lambda: timezone.localdate() + datetime.timedelta(days=3 * 365))
    status = "valid"


class RequiredSchemeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RequiredScheme

    agency = factory.SubFactory(AgencyFactory)
    scheme = factory.SubFactory(SchemeFactory)
    min_level = "EAL4+"
    min_level_rank = factory.LazyAttribute(lambda o: o.scheme.level_rank(o.min_level))
    device_kind = "qkd_transmitter"
    personnel_role = ""
