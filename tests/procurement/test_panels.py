"""The procurement dashboard panel: exact counts, links, the agency's records only, nothing for
someone who may not see suppliers, and a query count that does not grow with the records."""

import datetime
import zoneinfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from procurement.models import Contract, Supplier
from tests.procurement.factories import (
    ComponentFactory,
    ContractFactory,
    CryptoComponentFactory,
    CryptoPolicyFactory,
    SupplierFactory,
)

TODAY = timezone.localdate(timezone=zoneinfo.ZoneInfo("Europe/Brussels"))


def days(n):
    return TODAY + datetime.timedelta(days=n)


def supplier(agency, name, status, outcome=""):
    made = SupplierFactory(agency=agency, name=name)
    Supplier.objects.filter(pk=made.pk).update(status=status, rating_outcome=outcome,
                                               rating_score=40 if outcome else None)
    return made


def contract(agency, reference, status, sunset=None, **fields):
    made = ContractFactory(agency=agency, supplier=fields.pop("supplier", None) or SupplierFactory(agency=agency),
                           reference=reference, start=days(-900), end=days(1500), sunset_date=sunset, **fields)
    Contract.objects.filter(pk=made.pk).update(status=status)
    return made


@pytest.fixture
def supply_chain(agency, other_agency):
    photonica = supplier(agency, "Photonica", "approved", "approve")
    supplier(agency, "Liberty", "conditional", "conditional")
    supplier(agency, "Photon Link", "candidate", "escalate")
    supplier(agency, "Qubitron", "suspended", "reject")
    supplier(agency, "Netcipher", "exited", "reject")  # exited: no longer flagged
    supplier(agency, "Keystone", "candidate")
    supplier(other_agency, "Theirs", "candidate", "escalate")
    CryptoPolicyFactory()  # NIST IR 8547, the default policy: dates the vulnerable components
    CryptoComponentFactory(agency=agency, supplier=None)  # RSA-2048: 2030
    CryptoComponentFactory(agency=agency, supplier=None, algorithm="ECDSA", parameter_set_identifier="P-256",
                           classical_security_level=128)  # 2035
    CryptoComponentFactory(agency=agency, supplier=None, algorithm="ML-KEM", parameter_set_identifier="768",
                           primitive="kem", classical_security_level=192, nist_quantum_security_level=3)
    ComponentFactory(agency=agency, supplier=None)
    CryptoComponentFactory(agency=other_agency, supplier=None)
    contract(agency, "CT-50", "active", days(50), supplier=photonica)
    contract(agency, "CT-PAST", "under_reevaluation", days(-3), supplier=photonica)
    contract(agency, "CT-179", "renewed", days(179), supplier=photonica)
    contract(agency, "CT-200", "active", days(200), supplier=photonica)
    contract(agency, "CT-EXITING", "exiting", days(20), supplier=photonica)
    contract(agency, "CT-DRAFT", "draft", days(20), supplier=photonica)
    contract(other_agency, "CT-THEIRS", "active", days(10))


def panel_of(client):
    page = client.get("/")
    assert page.status_code == 200
    panels = {str(panel.title): ctx for panel, ctx in page.context["panels"]}
    return page, panels.get("Procurement")


def test_the_panel_counts_exactly_the_agencys_records(client, agency, member_of, supply_chain):
    client.force_login(member_of(agency))
    page, ctx = panel_of(client)
    assert {value: n for value, _label, n, _colour in ctx["statuses"]} == {
        "candidate": 2, "approved": 1, "conditional": 1, "suspended": 1, "exited": 1}
    assert ctx["flagged_count"] == 2
    assert [s.name for s in ctx["flagged"]] == ["Photon Link", "Qubitron"]
    assert (ctx["vulnerable"], ctx["nearest_deadline"]) == (2, datetime.date(2030, 12, 31))
    assert (ctx["sunset_count"], ctx["sunset_overdue"], ctx["nearest_sunset"]) == (3, 1, days(-3))
    html = page.content.decode()
    assert 'href="/procurement/suppliers/?status=suspended"' in html
    assert "2 suppliers&#x27; latest reviews escalated or rejected" in html or \
        "2 suppliers' latest reviews escalated or rejected" in html
    assert "2 quantum-vulnerable components" in html and "the first must be replaced by 2030-12-31" in html
    assert "3 contracts reach their sunset within 180 days" in html
    assert 'href="/procurement/contracts/due/?within=180"' in html
    # The links land on lists filtered to what the panel counted.
    vulnerable = client.get("/procurement/components/?quantum_vulnerable=true")
    assert len(vulnerable.context["table"].rows) == 2
    link = "/procurement/suppliers/?rating_outcome=escalate&amp;rating_outcome=reject&amp;status=candidate&amp;" \
        "status=approved&amp;status=conditional&amp;status=suspended"
    assert f'href="{link}"' in html
    flagged = client.get(link.replace("&amp;", "&"))
    assert sorted(str(s) for s in flagged.context["table"].data) == ["Photon Link", "Qubitron"]


def test_an_empty_agency_gets_a_quiet_panel(client, agency, member_of):
    client.force_login(member_of(agency))
    page, ctx = panel_of(client)
    assert (ctx["flagged_count"], ctx["vulnerable"], ctx["sunset_count"]) == (0, 0, 0)
    html = page.content.decode()
    assert "No quantum-vulnerable component recorded." in html
    assert "No supplier" in html


def test_the_panel_query_count_is_fixed(client, agency, member_of, supply_chain):
    from procurement.panels import PROCUREMENT_PANEL

    user = member_of(agency)

    class Request:
        pass

    request = Request()
    request.user = user
    PROCUREMENT_PANEL.context(request, agency)  # warm the permission caches
    with CaptureQueriesContext(connection) as few:
        PROCUREMENT_PANEL.context(request, agency)
    for n in range(5):
        supplier(agency, f"More {n}", "candidate", "escalate")
        CryptoComponentFactory(agency=agency, supplier=None)
        contract(agency, f"CT-MORE-{n}", "active", days(10 + n), supplier=Supplier.objects.get(name=f"More {n}"))
    with CaptureQueriesContext(connection) as many:
        ctx = PROCUREMENT_PANEL.context(request, agency)
    assert len(many) == len(few) == 5  # the user's roles, then suppliers, flagged names, components, contracts
    assert ctx["flagged_count"] == 7 and len(ctx["flagged"]) == 5
