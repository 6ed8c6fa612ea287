"""A new record's form takes initial values from the query string (qgov.views.generic), which the
certification app uses to offer "Open a register risk" for a device that lost its certificate."""

import pytest
from django.urls import reverse

from certification.selectors import register_risk_url
from qgov.choices import RoleChoices
from tests.certification.factories import DeviceCertificationFactory
from tests.risks.factories import AssetFactory, ThreatVectorFactory


@pytest.fixture
def editor(agency, member_of):
    return member_of(agency, RoleChoices.EDITOR)


def test_the_risk_form_is_prefilled_from_the_query_string(client, agency, other_agency, editor):
    asset = AssetFactory(agency=agency, name="QKD link A–B")
    foreign = AssetFactory(agency=other_agency, name="Someone else's link")
    client.force_login(editor)
    response = client.get(reverse("risks:risk_add"), {"title": "Lost certificate", "assets": [asset.pk, foreign.pk],
                                                      "agency": other_agency.pk, "version": 7})
    assert response.status_code == 200
    form = response.context["form"]
    assert form.initial["title"] == "Lost certificate"
    assert form.initial["assets"] == [str(asset.pk), str(foreign.pk)]
    assert "agency" not in form.initial and form.initial.get("version") != "7"
    html = response.content.decode()
    assert 'value="Lost certificate"' in html
    assert "QKD link A–B" in html and "Someone else" not in html  # choices stay the user's agency's


def test_the_prefill_is_only_for_new_records(client, agency, editor):
    from tests.risks.factories import RiskFactory

    risk = RiskFactory(agency=agency, title="Kept title")
    client.force_login(editor)
    response = client.get(reverse("risks:risk_edit", args=[risk.pk]), {"title": "Overwritten"})
    assert response.context["form"]["title"].value() == "Kept title"


def test_register_risk_url_names_the_device_assets_and_threats(agency):
    asset = AssetFactory(agency=agency, name="Trusted node TN-2")
    vector = ThreatVectorFactory(code="QOP-03")
    certification = DeviceCertificationFactory(agency=agency, device__kind="trusted_node", status="revoked",
                                               status_note="Vendor withdrew the evaluation.")
    certification.device.assets.add(asset)
    url = register_risk_url(certification)
    assert url.startswith(reverse("risks:risk_add") + "?title=")
    assert f"assets={asset.pk}" in url and f"threat_vectors={vector.pk}" in url
    assert "revoked" in url and "Vendor+withdrew" in url
