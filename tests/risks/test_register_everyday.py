"""The register in everyday use: search across threat vectors, honest filter errors and empty results,
bounded filter choices."""

import re

import pytest
from django.contrib.auth import get_user_model

from qgov.choices import RoleChoices
from qgov.models import Membership
from risks.filters import RiskFilterSet
from risks.models import Risk, ThreatVector
from tests.risks.factories import RiskFactory, ThreatVectorFactory


def test_search_finds_threat_vector_codes_titles_and_descriptions_once(client, agency, member_of):
    harvest = ThreatVectorFactory(code="QOP-03", title="Harvest now, decrypt later",
                                  description="Ciphertext recorded today is broken by a future computer.")
    store = ThreatVectorFactory(code="QOP-04", title="Harvest archives", description="Long-lived archives.")
    other = ThreatVectorFactory(code="SIG-01", title="Forged signatures", description="Signatures forged later.")
    both = RiskFactory(agency=agency, title="Archive of tax returns")
    both.threat_vectors.set([harvest, store])  # two matching vectors: still one row
    RiskFactory(agency=agency, title="Code signing").threat_vectors.set([other])
    RiskFactory(agency=agency, title="No vector")
    client.force_login(member_of(agency))

    def titles(q):
        return [r.title for r in client.get("/risks/register/", {"q": q}).context["table"].data]

    assert titles("QOP-03") == ["Archive of tax returns"]
    assert titles("harvest") == ["Archive of tax returns"]
    assert titles("future computer") == ["Archive of tax returns"]
    assert titles("forged") == ["Code signing"]
    assert titles("signing") == ["Code signing"]  # the risk's own fields still count


@pytest.mark.django_db
def test_search_over_vectors_reads_the_link_table_not_a_distinct_join():
    ThreatVectorFactory(title="Harvest now, decrypt later")
    sql = str(RiskFilterSet({"q": "harvest"}, queryset=Risk.objects.all()).qs.query).upper()
    assert "RISKS_RISK_THREAT_VECTORS" in sql
    assert "DISTINCT" not in sql


def test_an_invalid_filter_value_is_said_in_the_sidebar_and_above_the_table(client, agency, member_of):
    RiskFactory(agency=agency, title="Any")
    client.force_login(member_of(agency))
    page = client.get("/risks/register/", {"inherent_likelihood": "high", "status": "bogus"})
    html = page.content.decode()
    assert page.status_code == 200
    alert = re.search(r'<div class="alert alert-warning"[^>]*data-testid="filter-errors"[^>]*>(.*?)</div>', html, re.S)
    assert alert, html
    assert "Some filters are not valid" in alert.group(1)
    assert "Inherent likelihood" in alert.group(1) and "Status" in alert.group(1)
    sidebar = re.search(r'<aside.*?</aside>', html, re.S).group(0)
    assert "Enter a number." in sidebar
    assert "Select a valid choice. bogus is not one of the available choices." in sidebar
    assert "No risks match these filters." not in html  # nothing was filtered: the filter was refused


def test_an_empty_result_says_so_with_a_link_that_clears_the_filters(client, agency, member_of):
    RiskFactory(agency=agency, title="Any", status="identified")
    client.force_login(member_of(agency))
    html = client.get("/risks/register/", {"status": "closed", "q": "nothing"}).content.decode()
    empty = re.search(r'<td[^>]*>\s*No risks match these filters\. <a href="([^"]+)">Clear filters</a>', html)
    assert empty, html
    assert empty.group(1) == "/risks/register/"
    # An agency without any record yet is not told about filters.
    RiskFactory._meta.model.objects.all().delete()
    html = client.get("/risks/register/").content.decode()
    assert "No risks match these filters." not in html
    assert "Nothing here yet." in html


def test_filter_sidebar_pickers_of_people_and_vectors_are_bounded(client, agency, member_of):
    """Past 100 choices, vectors and people are autocomplete pickers: no option per record, the chosen
    one by name (qgov/autocomplete.py)."""
    ThreatVectorFactory.create_batch(105)
    viewer = member_of(agency)
    # Members enough to pass the bound, without hashing a password for each.
    people = get_user_model().objects.bulk_create(get_user_model()(username=f"person{n}") for n in range(101))
    Membership.objects.bulk_create(Membership(agency=agency, user=person, role=RoleChoices.VIEWER)
                                   for person in people)
    client.force_login(viewer)
    beyond = ThreatVector.objects.order_by("code").last()  # not among the first 100
    html = client.get("/risks/register/", {"threat_vector": beyond.pk}).content.decode()

    def picker(name):
        found = re.search(rf'<input[^>]*name="{name}"[^>]*>', html)
        assert found, name
        return found.group(0)

    vectors = picker("threat_vector")
    assert f'value="{beyond.pk}"' in vectors and beyond.title in vectors
    assert "data-autocomplete-multiple" in vectors
    assert 'data-autocomplete="/autocomplete/auth/user/"' in picker("owner")
    assert "person7" not in html and '<select name="threat_vector"' not in html
