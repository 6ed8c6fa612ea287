import datetime

import factory
from django.utils import timezone

from risks.models import Asset, Control, Risk, RiskAcceptance, ThreatVector
from risks.services import risk_matrix_ensure
from tests.factories import AgencyFactory, UserFactory


class ThreatVectorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ThreatVector
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"TST-{n:02d}")
    title = factory.Sequence(lambda n: f"Test threat {n}")
    category = "qkd_operational"
    description = "A threat used in tests."
    default_likelihood = 3
    default_impact = 4
    citations = ["Judgement of the qgov authors [J]"]


class AssetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Asset

    agency = factory.SubFactory(AgencyFactory)
    name = factory.Sequence(lambda n: f"Asset {n}")
    asset_type = "qkd_link"
    shelf_life_years = 10
    migration_years = 3


class ControlFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Control

    agency = factory.SubFactory(AgencyFactory)
    title = factory.Sequence(lambda n: f"Control {n}")
    control_type = "preventive"


class RiskFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Risk

    agency = factory.SubFactory(AgencyFactory)
    title = factory.Sequence(lambda n: f"Risk {n}")
    inherent_likelihood = 3
    inherent_impact = 4

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        risk_matrix_ensure(kwargs["agency"])  # a real agency always has its matrix
        return super()._create(model_class, *args, **kwargs)


class RiskAcceptanceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RiskAcceptance

    agency = factory.SubFactory(AgencyFactory)
    risk = factory.SubFactory(RiskFactory, agency=factory.SelfAttribute("..agency"))
    requested_by = factory.SubFactory(UserFactory)
    rationale = "Residual exposure needs physical access to the transmitter room."
    valid_until = factory.LazyFunction(lambda: timezone.localdate() + datetime.timedelta(days=90))


def approved_acceptance(*, agency, owner=None, valid_until, **fields):
    """An approved acceptance (set straight in the database: the approval flow is tested in
    test_acceptance.py), of a risk owned by `owner`: what the due-date reminders work on."""
    from django.db import transaction

    with transaction.atomic():  # numbering the risk locks a row; tests on real transactions need one
        risk = RiskFactory(agency=agency, owner=owner)
        return RiskAcceptanceFactory(agency=agency, risk=risk, valid_until=valid_until, status="approved", **fields)
