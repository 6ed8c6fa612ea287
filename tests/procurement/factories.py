"""factory_boy factories of the procurement app."""

import datetime

import factory
from django.utils import timezone

from procurement.models import (
    Component,
    Contract,
    CryptoPolicy,
    CryptoPolicyAdoption,
    DueDiligenceAnswer,
    DueDiligenceReview,
    Questionnaire,
    Supplier,
)
from tests.factories import AgencyFactory

# Weights of the shipped questionnaire (QKD-SCRM-1): 18 questions totalling 100.
WEIGHTS = [8, 6, 6, 7, 6, 7, 6, 8, 8, 4, 5, 4, 5, 4, 4, 4, 4, 4]


class QuestionnaireFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Questionnaire
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"TEST-DD-{n}")
    series = factory.Sequence(lambda n: f"test-dd-{n}")
    edition = 1
    title = "Test due diligence"
    questions = factory.LazyFunction(lambda: [{"code": f"Q{n}", "text": f"Question {n}?", "weight": weight}
                                              for n, weight in enumerate(WEIGHTS, start=1)])
    escalation = factory.LazyFunction(lambda: {"criticality": ["critical"], "questions": ["Q1", "Q6", "Q8"]})
    outcome_bands = factory.LazyFunction(lambda: [{"min_score": 75, "outcome": "approve"},
                                                  {"min_score": 50, "outcome": "conditional"},
                                                  {"min_score": 0, "outcome": "reject"}])
    citations = factory.LazyFunction(lambda: ["A citation [V]"])


class CryptoPolicyFactory(factory.django.DjangoModelFactory):
    """NIST IR 8547 as shipped: 112-bit schemes by 2030, everything else by 2035."""

    class Meta:
        model = CryptoPolicy
        django_get_or_create = ("code",)

    code = "NIST-IR-8547"
    name = "NIST IR 8547 (initial public draft)"
    issuer = "NIST"
    deadlines = factory.LazyFunction(lambda: [
        {"date": "2030-12-31", "label": "Deprecated after 2030", "classical_bits_at_most": 112},
        {"date": "2035-12-31", "label": "Disallowed after 2035"}])


class CryptoPolicyAdoptionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CryptoPolicyAdoption

    agency = factory.SubFactory(AgencyFactory)
    policy = factory.SubFactory(CryptoPolicyFactory)
    adopted_on = factory.LazyFunction(timezone.localdate)


class SupplierFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Supplier

    agency = factory.SubFactory(AgencyFactory)
    name = factory.Sequence(lambda n: f"Photonica {n} AG")
    country = "CH"
    criticality = "high"
    contact_name = "Dana Vogt"
    contact_email = factory.Sequence(lambda n: f"dd{n}@photonica.example")


class DueDiligenceReviewFactory(factory.django.DjangoModelFactory):
    """A draft review with its answers (as the create service makes them)."""

    class Meta:
        model = DueDiligenceReview

    agency = factory.SubFactory(AgencyFactory)
    supplier = factory.SubFactory(SupplierFactory, agency=factory.SelfAttribute("..agency"))
    questionnaire = factory.SubFactory(QuestionnaireFactory)

    @factory.post_generation
    def with_answers(self, create, extracted, **kwargs):
        if create and extracted is not False:
            self.after_create(user=None)


class DueDiligenceAnswerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DueDiligenceAnswer
        django_get_or_create = ("review", "question")

    agency = factory.SubFactory(AgencyFactory)
    review = factory.SubFactory(DueDiligenceReviewFactory, agency=factory.SelfAttribute("..agency"),
                                with_answers=False)
    question = "Q1"
    answer = "partial"


class ComponentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Component

    agency = factory.SubFactory(AgencyFactory)
    supplier = factory.SubFactory(SupplierFactory, agency=factory.SelfAttribute("..agency"))
    name = factory.Sequence(lambda n: f"qkd-firmware-{n}")
    component_type = "firmware"
    component_version = "2.1.0"


class CryptoComponentFactory(ComponentFactory):
    """RSA-2048 signatures: quantum-vulnerable, 112-bit classical strength."""

    component_type = "cryptographic-asset"
    name = factory.Sequence(lambda n: f"RSA-2048 signing key {n}")
    crypto_asset_type = "algorithm"
    primitive = "signature"
    algorithm = "RSA"
    parameter_set_identifier = "2048"
    classical_security_level = 112
    nist_quantum_security_level = 0


class ContractFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contract

    agency = factory.SubFactory(AgencyFactory)
    supplier = factory.SubFactory(SupplierFactory, agency=factory.SelfAttribute("..agency"))
    reference = factory.Sequence(lambda n: f"CT-{n:04d}")
    title = "QKD link supply and support"
    value = 250000
    currency = "EUR"
    start = factory.LazyFunction(lambda: timezone.localdate() - datetime.timedelta(days=365))
    end = factory.LazyFunction(lambda: timezone.localdate() + datetime.timedelta(days=3 * 365))
    sunset_date = factory.LazyFunction(lambda: timezone.localdate() + datetime.timedelta(days=2 * 365))
