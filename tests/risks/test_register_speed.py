"""What keeps the register page fast at 100,000 risks, pinned: the rows written by prepared
per-column functions give the HTML django-tables2's own template gives; the list is scoped to the
active agency without a subquery of memberships, so the database walks its (agency, …) indexes;
the heat maps are one grouped walk of their covering index, whose sum is the count the page shows."""

import datetime
import re

import pytest
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django_tables2 import RequestConfig

from qgov.choices import RoleChoices
from qgov.models import AuditEvent, Membership
from qgov.tables import AuditEventTable, MembershipTable
from risks.models import Asset, Control, Risk, ThreatVector
from risks.selectors import heatmap_groups, matrix_of
from risks.tables import AssetTable, ControlTable, RiskTable
from tests.risks.factories import AssetFactory, ControlFactory, RiskFactory

sqlite_only = pytest.mark.skipif("connection.vendor != 'sqlite'", reason="reads SQLite's EXPLAIN QUERY PLAN")


def library_tbody(table, request):
    """The <tbody> django-tables2's stock bootstrap5 template writes, cell by cell, whitespace
    between tags folded."""
    table.template_name = "django_tables2/bootstrap5.html"
    html = table.as_html(request)
    return normalized(re.search(r"<tbody.*?</tbody>", html, re.S).group(0))


def normalized(html):
    return re.sub(r">\s+<", "><", str(html)).replace("<tbody >", "<tbody>").strip()


def both_ways(table_class, queryset, user, **kwargs):
    request = RequestFactory().get("/", {"sort": kwargs.pop("sort", "")} if "sort" in kwargs else {})
    request.user = user
    fast = table_class(queryset, **kwargs)
    RequestConfig(request, paginate={"per_page": 50}).configure(fast)
    library = table_class(queryset, **kwargs)
    RequestConfig(request, paginate={"per_page": 50}).configure(library)
    return normalized(fast.tbody_html()), library_tbody(library, request)


@pytest.fixture
def varied_risks(agency, member_of):
    owner = member_of(agency, RoleChoices.EDITOR, username="o<wner>")
    vectors = ThreatVector.objects.bulk_create([
        ThreatVector(code="SPD-1", title='Photon "blinding" & more', category="qkd_operational",
                     default_likelihood=2, default_impact=2),
        ThreatVector(code="SPD-2", title="Harvest now", category="qkd_operational", default_likelihood=2,
                     default_impact=2)])
    past = datetime.date.today() - datetime.timedelta(days=30)
    risks = [
        RiskFactory(agency=agency, title="Plain <b>title</b>", owner=owner),
        RiskFactory(agency=agency, title="Rated", current_likelihood=2, current_impact=2, residual_likelihood=1,
                    residual_impact=1, treatment="mitigate", review_date=past),
        RiskFactory(agency=agency, title="Closed, overdue date", status="closed", review_date=past),
        RiskFactory(agency=agency, title="", inherent_likelihood=5, inherent_impact=5),
    ]
    risks[0].threat_vectors.add(*vectors)
    risks[1].threat_vectors.add(vectors[1])
    return owner, risks


def test_register_rows_are_the_html_of_the_library(agency, varied_risks):
    owner, _risks = varied_risks
    queryset = Risk.objects.filter(agency=agency).select_related("owner").prefetch_related("threat_vectors")
    for sort in ("reference", "-rating", "owner"):
        fast, library = both_ways(RiskTable, queryset, owner, matrix=matrix_of(agency), sort=sort)
        assert fast == library
        assert fast.count("<tr") == 4 and "Plain &lt;b&gt;title&lt;/b&gt;" in fast
    # Without a matrix the rating badge reads "—" as the library writes it.
    fast, library = both_ways(RiskTable, queryset, owner, matrix=None)
    assert fast == library


def test_other_lists_rows_are_the_html_of_the_library(agency, member_of):
    """The core's tables and the risk app's others: columns through relations, computed links and
    template columns keep the library's own pipeline, cell for cell."""
    user = member_of(agency, RoleChoices.ADMIN, username="admin<1>")
    AssetFactory(agency=agency, name="Link <A>", owner=user, harvestable=True)
    AssetFactory(agency=agency, name="Archive", shelf_life_years=1, migration_years=1)
    ControlFactory(agency=agency, title="Control & check", owner=user, due_date=datetime.date(2027, 1, 31))
    ControlFactory(agency=agency, title="Undated")
    RiskFactory(agency=agency, title="An audited risk")  # AuditEvent rows through the services? not needed
    cases = [
        (AssetTable, Asset.objects.filter(agency=agency).select_related("owner"), {"matrix": matrix_of(agency)}),
        (AssetTable, Asset.objects.filter(agency=agency).select_related("owner"), {"matrix": None}),
        (ControlTable, Control.objects.filter(agency=agency).select_related("owner"), {}),
        (MembershipTable, Membership.objects.filter(agency=agency).select_related("user", "agency"), {}),
        (AuditEventTable, AuditEvent.objects.select_related("content_type"), {}),
    ]
    for table_class, queryset, kwargs in cases:
        fast, library = both_ways(table_class, queryset, user, **kwargs)
        assert fast == library, table_class.__name__


def test_the_list_is_scoped_to_the_active_agency_without_a_subquery(client, agency, other_agency, member_of):
    RiskFactory(agency=agency, title="Ours")
    RiskFactory(agency=other_agency, title="Theirs")
    user = member_of(agency)
    Membership.objects.create(agency=other_agency, user=user, role=RoleChoices.VIEWER)
    client.force_login(user)
    with CaptureQueriesContext(connection) as queries:
        page = client.get("/risks/register/")
    titles = [risk.title for risk in page.context["table"].data]
    assert len(titles) == 1 and titles[0] in ("Ours", "Theirs")  # the active agency's only
    risk_queries = [q["sql"] for q in queries.captured_queries if 'FROM "risks_risk"' in q["sql"]]
    assert risk_queries and not any("qgov_membership" in sql for sql in risk_queries)


def test_the_count_shown_is_the_heat_maps_sum_and_no_count_query_runs(client, agency, member_of):
    for n in range(7):
        RiskFactory(agency=agency, status="closed" if n % 3 == 0 else "draft", inherent_likelihood=1 + n % 5)
    client.force_login(member_of(agency))
    for query, expected in (({}, 7), ({"status": "closed"}, 3), ({"inherent_likelihood": 2}, 2)):
        with CaptureQueriesContext(connection) as queries:
            page = client.get("/risks/register/", query)
        assert f"{expected} records" in page.content.decode()
        assert page.context["table"].page.paginator.count == expected
        assert not [q for q in queries.captured_queries if 'COUNT(*) AS "__count" FROM "risks_risk"' in q["sql"]]


def test_a_filter_through_assets_counts_each_risk_once(client, agency, member_of):
    first, second = AssetFactory(agency=agency, name="A1"), AssetFactory(agency=agency, name="A2")
    risk = RiskFactory(agency=agency)
    risk.assets.add(first, second)
    RiskFactory(agency=agency)
    client.force_login(member_of(agency))
    page = client.get("/risks/register/", {"asset": first.pk})
    assert page.context["table"].page.paginator.count == 1
    assert "1 record" in page.content.decode()


def test_refused_filters_show_no_records_and_empty_maps(client, agency, member_of, other_agency):
    RiskFactory(agency=agency)
    theirs = AssetFactory(agency=other_agency)
    client.force_login(member_of(agency))
    page = client.get("/risks/register/", {"asset": theirs.pk})
    assert page.context["filter_errors"]
    assert page.context["table"].page.paginator.count == 0


@sqlite_only
def test_heat_maps_walk_the_covering_index_without_sorting(agency):
    RiskFactory(agency=agency)
    queryset = Risk.objects.filter(agency=agency)
    with CaptureQueriesContext(connection) as queries:
        groups = heatmap_groups(queryset)
    assert groups.total == 1
    (query,) = queries.captured_queries
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN QUERY PLAN {query['sql']}")
        plan = " | ".join(row[3] for row in cursor.fetchall())
    assert "COVERING INDEX risk_heatmap_idx" in plan and "TEMP B-TREE" not in plan, plan


@sqlite_only
def test_the_page_reads_its_rows_through_indexes(client, agency, member_of):
    """No query of the register scans the risks table or sorts it: the first page of 50 is read in
    the (agency, reference) index's order, the maps from their covering index."""
    for _ in range(3):
        RiskFactory(agency=agency)
    client.force_login(member_of(agency))
    with CaptureQueriesContext(connection) as queries:
        client.get("/risks/register/")
    with connection.cursor() as cursor:
        for query in queries.captured_queries:
            if 'FROM "risks_risk"' not in query["sql"]:
                continue
            cursor.execute(f"EXPLAIN QUERY PLAN {query['sql']}")
            plan = " | ".join(row[3] for row in cursor.fetchall())
            assert "SCAN risks_risk" not in plan and "TEMP B-TREE FOR ORDER BY" not in plan, (query["sql"], plan)


def test_autocomplete_pickers_write_the_stock_input_html(client, agency, member_of, monkeypatch):
    """A record picker (a text input with the chosen labels as JSON) written in Python is the HTML
    Django's input template writes, quotes and ampersands of a chosen label included."""
    from qgov.autocomplete import AutocompleteInput
    from qgov.views.generic import ObjectListView
    from qgov.widgets import _WrittenInPython
    from tests.risks.factories import AssetFactory

    monkeypatch.setattr(ObjectListView, "filter_choices_limit", 0)  # every record filter a picker
    asset = AssetFactory(agency=agency, name='Link "B" & <c>')
    client.force_login(member_of(agency))
    form = client.get("/risks/register/", {"asset": asset.pk}).context["filter"].form
    bound = form["asset"]
    widget = bound.field.widget
    assert isinstance(widget, AutocompleteInput) and isinstance(widget, _WrittenInPython)
    fast = str(bound)
    assert "Link \\&quot;B\\&quot; &amp; &lt;c&gt;" in fast  # JSON's escapes, then the attribute's
    widget.__class__ = AutocompleteInput
    assert fast == str(bound)


def test_sidebar_choice_widgets_write_the_stock_templates_html(client, agency, member_of):
    """The sidebar's selects, checkboxes and inputs are written in Python (qgov.widgets.write_in_python):
    the same HTML as Django's templates, chosen values and odd characters included."""
    from django import forms

    from qgov.widgets import _WrittenInPython

    ThreatVector.objects.create(code="Q&A", title='Vector "<quoted>"', category="qkd_operational",
                                default_likelihood=2, default_impact=2)
    member_of(agency, RoleChoices.EDITOR, username="owner & <co>")
    client.force_login(member_of(agency))
    page = client.get("/risks/register/", {"status": ["draft", "closed"], "treatment": "avoid",
                                            "q": 'link "A" & <b>', "inherent_likelihood": "3",
                                            "overdue": "true"})
    form = page.context["filter"].form
    checked = {}
    for bound in form:
        widget = bound.field.widget
        if not isinstance(widget, _WrittenInPython):
            continue
        fast_class = type(widget)
        fast = str(bound)
        widget.__class__ = fast_class.__bases__[1]  # the stock class, rendering its templates
        assert fast == str(bound), bound.name
        widget.__class__ = fast_class
        checked[bound.name] = type(widget).__bases__[1]
    # Every sidebar field but the two yes/no/any choices (AnyYesNoWidget renders its own way).
    numbers = ("inherent_likelihood", "inherent_impact", "residual_likelihood", "residual_impact",
               "current_likelihood", "current_impact")
    assert checked == {
        "q": forms.TextInput, "status": forms.CheckboxSelectMultiple, "treatment": forms.CheckboxSelectMultiple,
        "rating": forms.TextInput,  # no matrix here: a band typed, not chosen
        "owner": forms.Select, "category": forms.CheckboxSelectMultiple, "threat_vector": forms.SelectMultiple,
        "asset": forms.Select, **dict.fromkeys(numbers, forms.NumberInput),
        "updated_after": forms.DateTimeInput, "updated_before": forms.DateTimeInput}
    html = page.content.decode()
    assert '<input type="checkbox" name="status" value="draft" id="id_status_0" checked>' in html
    assert '<input type="checkbox" name="status" value="assessed" id="id_status_1">' in html
    assert "Vector &quot;&lt;quoted&gt;&quot;" in html
    assert isinstance(form.fields["status"].widget, forms.CheckboxSelectMultiple)  # still one, for the template
