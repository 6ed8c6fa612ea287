"""Components: vulnerable-crypto counts per supplier, device and asset; deadlines re-dated when the
agency's policy choice changes; the list filters; the detail page's deadline, rule and risk links;
pinned query counts."""

import datetime

import pytest

from procurement import catalog
from procurement.models import Component, CryptoPolicy, CryptoPolicyAdoption
from procurement.selectors import vulnerable_count, vulnerable_counts
from qgov.choices import RoleChoices
from qgov.models import AuditEvent
from qgov.services import object_create, object_delete, object_update
from tests.certification.factories import DeviceFactory
from tests.procurement.factories import ComponentFactory, CryptoComponentFactory, SupplierFactory
from tests.risks.factories import AssetFactory, ThreatVectorFactory

D = datetime.date


@pytest.fixture
def policies(db):
    catalog.load()
    return {policy.code: policy for policy in CryptoPolicy.objects.all()}


@pytest.fixture
def admin(agency, member_of):
    return member_of(agency, RoleChoices.ADMIN, username="adm")


def test_vulnerable_counts_per_supplier_device_and_asset(agency, other_agency, admin, policies,
                                                         django_assert_num_queries):
    supplier, other_supplier = SupplierFactory(agency=agency), SupplierFactory(agency=agency)
    device, asset = DeviceFactory(agency=agency), AssetFactory(agency=agency)
    CryptoComponentFactory(agency=agency, supplier=supplier, device=device, asset=asset)
    CryptoComponentFactory(agency=agency, supplier=supplier, device=device, algorithm="ECDSA",
                           classical_security_level=128)
    ComponentFactory(agency=agency, supplier=supplier, device=device)  # not cryptography
    CryptoComponentFactory(agency=agency, supplier=other_supplier, algorithm="ML-KEM",
                           nist_quantum_security_level=3)  # quantum-safe
    CryptoComponentFactory(agency=other_agency)  # another agency's: never counted
    with django_assert_num_queries(1):  # one grouped query (the memberships are cached on the user)
        counts = vulnerable_counts(user=admin, by="supplier")
    assert counts[supplier.pk] == {"vulnerable": 2, "components": 3, "earliest_deadline": D(2030, 12, 31)}
    assert counts[other_supplier.pk]["vulnerable"] == 0
    assert len(counts) == 2
    assert vulnerable_counts(user=admin, by="device")[device.pk]["vulnerable"] == 2
    assert vulnerable_counts(user=admin, by="asset")[asset.pk] == {
        "vulnerable": 1, "components": 1, "earliest_deadline": D(2030, 12, 31)}
    assert vulnerable_count(user=admin, supplier=supplier) == 2
    assert vulnerable_count(user=admin, asset=asset) == 1
    with pytest.raises(ValueError):
        vulnerable_counts(user=admin, by="contract")


def test_vulnerable_counts_per_linked_risk(agency, admin, policies, django_assert_num_queries):
    from tests.risks.factories import RiskFactory

    risk, quiet = RiskFactory(agency=agency), RiskFactory(agency=agency)
    rsa = CryptoComponentFactory(agency=agency)
    ecdh = CryptoComponentFactory(agency=agency, algorithm="ECDH", classical_security_level=128)
    aes = CryptoComponentFactory(agency=agency, algorithm="AES", nist_quantum_security_level=5)
    for component in (rsa, ecdh, aes):
        component.risks.add(risk)
    aes.risks.add(quiet)
    with django_assert_num_queries(1):
        counts = vulnerable_counts(user=admin, by="risk", ids=[risk.pk, quiet.pk])
    assert counts == {risk.pk: {"vulnerable": 2, "components": 3, "earliest_deadline": D(2030, 12, 31)},
                      quiet.pk: {"vulnerable": 0, "components": 1, "earliest_deadline": None}}
    assert vulnerable_count(user=admin, risk=risk) == 2


def test_a_changed_policy_choice_re_dates_the_agencys_components(agency, other_agency, admin, policies):
    rsa = CryptoComponentFactory(agency=agency)  # RSA signature, 112 bits
    ecdh = CryptoComponentFactory(agency=agency, algorithm="ECDH", primitive="key-agree",
                                  classical_security_level=128)
    elsewhere = CryptoComponentFactory(agency=other_agency, algorithm="ECDH", primitive="key-agree",
                                       classical_security_level=128)
    assert (rsa.policy_deadline, ecdh.policy_deadline) == (D(2030, 12, 31), D(2035, 12, 31))  # NIST IR 8547

    adoption = object_create(model=CryptoPolicyAdoption, user=admin, data={
        "agency": agency, "policy": policies["CNSA-2.0"], "adopted_on": D(2026, 1, 1)})
    rsa.refresh_from_db(), ecdh.refresh_from_db(), elsewhere.refresh_from_db()
    assert (rsa.policy_deadline, ecdh.policy_deadline) == (D(2030, 12, 31), D(2033, 12, 31))  # CNSA 2.0
    assert elsewhere.policy_deadline == D(2035, 12, 31)
    assert AuditEvent.objects.filter(content_type__model="component", object_id=str(ecdh.pk),
                                     action="update").exists()  # the re-dating is audited

    object_update(instance=adoption, user=admin, data={"policy": policies["UK-NCSC"]})
    rsa.refresh_from_db()
    assert rsa.policy_deadline == D(2035, 12, 31)

    object_delete(instance=CryptoPolicyAdoption.objects.get(pk=adoption.pk), user=admin)
    rsa.refresh_from_db(), ecdh.refresh_from_db()
    assert (rsa.policy_deadline, ecdh.policy_deadline) == (D(2030, 12, 31), D(2035, 12, 31))  # the default again


def test_a_refused_policy_change_leaves_the_deadlines(agency, member_of, policies):
    from django.core.exceptions import PermissionDenied

    editor = member_of(agency, RoleChoices.EDITOR, username="ed")
    ecdh = CryptoComponentFactory(agency=agency, algorithm="ECDH", classical_security_level=128)
    with pytest.raises(PermissionDenied):
        object_create(model=CryptoPolicyAdoption, user=editor, data={
            "agency": agency, "policy": policies["CNSA-2.0"], "adopted_on": D(2026, 1, 1)})
    ecdh.refresh_from_db()
    assert ecdh.policy_deadline == D(2035, 12, 31)


# --- list filters -------------------------------------------------------------------------------


@pytest.fixture
def listed(agency, policies):
    supplier = SupplierFactory(agency=agency, name="Acme")
    return {
        "rsa": CryptoComponentFactory(agency=agency, supplier=supplier, name="rsa"),
        "ecdh": CryptoComponentFactory(agency=agency, name="ecdh", algorithm="ECDH", classical_security_level=128),
        "aes": CryptoComponentFactory(agency=agency, name="aes", algorithm="AES", nist_quantum_security_level=5,
                                      authenticity_result="verified", authenticity_checked_on=D(2026, 3, 1)),
        "fw": ComponentFactory(agency=agency, supplier=supplier, name="fw", authenticity_result="failed",
                               authenticity_checked_on=D(2026, 3, 1)),
    }


@pytest.mark.parametrize(("query", "expected"), [
    ("quantum_vulnerable=true", {"rsa", "ecdh"}),
    ("quantum_vulnerable=false", {"aes", "fw"}),
    ("authenticity_not_verified=true", {"rsa", "ecdh", "fw"}),
    ("authenticity_not_verified=false", {"aes"}),
    ("authenticity_result=failed", {"fw"}),
    ("policy_deadline_before=2031-01-01", {"rsa"}),
    ("policy_deadline_before=2036-01-01", {"rsa", "ecdh"}),
])
def test_component_filters(client, api_as, agency, member_of, listed, query, expected):
    viewer = member_of(agency, RoleChoices.VIEWER, username="vi")
    names = {item["name"] for item in api_as(viewer).get(f"/api/components/?{query}").json()["results"]}
    assert names == expected
    client.force_login(viewer)
    page = client.get(f"/procurement/components/?{query}")
    assert {row.record.name for row in page.context["table"].rows} == expected


def test_the_supplier_filter(api_as, agency, member_of, listed):
    viewer = member_of(agency, RoleChoices.VIEWER, username="vi")
    supplier = listed["rsa"].supplier
    names = {item["name"] for item in api_as(viewer).get(f"/api/components/?supplier={supplier.pk}").json()["results"]}
    assert names == {"rsa", "fw"}


# Session, user, agency, memberships, notifications, count, page; the three record filters' ids,
# then their choices.
QUERIES = 13


def test_list_query_counts_are_pinned(client, agency, member_of, django_assert_num_queries, policies):
    client.force_login(member_of(agency))
    CryptoComponentFactory(agency=agency, device=DeviceFactory(agency=agency), asset=AssetFactory(agency=agency))
    with django_assert_num_queries(QUERIES):
        assert len(client.get("/procurement/components/").context["table"].rows) == 1
    for _ in range(4):
        CryptoComponentFactory(agency=agency, device=DeviceFactory(agency=agency), asset=AssetFactory(agency=agency))
    with django_assert_num_queries(QUERIES):
        assert len(client.get("/procurement/components/").context["table"].rows) == 5


def test_api_list_query_count_does_not_grow_with_rows(api_as, agency, member_of, policies):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = api_as(member_of(agency))
    CryptoComponentFactory(agency=agency)
    with CaptureQueriesContext(connection) as few:
        client.get("/api/components/")
    for _ in range(5):
        CryptoComponentFactory(agency=agency)
    with CaptureQueriesContext(connection) as many:
        assert len(client.get("/api/components/").json()["results"]) == 6
    assert len(many) == len(few)


# --- the detail page ----------------------------------------------------------------------------


def test_the_detail_page_shows_the_deadline_its_rule_and_the_risk_actions(client, agency, admin, policies):
    """The deadline under the agency's policy and its rule; raising a risk opens the register's form
    filled in (tests/procurement/test_component_risks.py follows it to the link back)."""
    hndl = ThreatVectorFactory(code="CRY-01")
    asset = AssetFactory(agency=agency)
    component = CryptoComponentFactory(agency=agency, asset=asset)
    client.force_login(admin)
    page = client.get(component.get_absolute_url())
    html = page.content.decode()
    assert 'data-testid="quantum-vulnerable"' in html
    assert "2030-12-31" in html and "NIST" in html
    assert "Deprecated after 2030" in page.context["policy_rule"]["label"]
    assert 'data-testid="raise-risk"' in html and 'data-testid="link-risk"' in html
    form = client.get(page.context["risk_raise_url"]).context["form"]  # the register's form arrives filled in
    assert form.initial["title"].startswith("Quantum-vulnerable")
    assert form.initial["assets"] == [asset.pk] and form.initial["threat_vectors"] == [hndl.pk]
    assert "2030-12-31" in form.initial["description"]


def test_a_quantum_safe_component_offers_no_risk(client, agency, admin, policies):
    component = CryptoComponentFactory(agency=agency, algorithm="ML-KEM", nist_quantum_security_level=3)
    client.force_login(admin)
    assert 'data-testid="quantum-vulnerable"' not in client.get(component.get_absolute_url()).content.decode()


def test_components_are_scoped_to_the_agency(client, agency, other_agency, member_of, policies):
    component = CryptoComponentFactory(agency=other_agency)
    client.force_login(member_of(agency))
    assert client.get(component.get_absolute_url()).status_code == 404
    assert Component.objects.count() == 1


def test_the_list_offers_the_import_to_editors_only(client, agency, member_of):
    client.force_login(member_of(agency, RoleChoices.EDITOR, username="ed"))
    assert 'data-testid="cyclonedx-import"' in client.get("/procurement/components/").content.decode()
    client.force_login(member_of(agency, RoleChoices.VIEWER, username="vi"))
    assert 'data-testid="cyclonedx-import"' not in client.get("/procurement/components/").content.decode()
