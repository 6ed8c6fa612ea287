"""An agency may delete its matrix while no risk is rated on it: every page of the register (and
the dashboard) must still answer, never a 500."""

from django.urls import reverse

from qgov.choices import RoleChoices
from risks.models import RiskMatrix
from risks.services import risk_matrix_ensure
from tests.risks.factories import AssetFactory, ControlFactory, ThreatVectorFactory


def test_every_register_page_answers_for_an_agency_without_a_matrix(client, agency, member_of):
    risk_matrix_ensure(agency).delete()
    assert not RiskMatrix.objects.filter(agency=agency).exists()
    asset = AssetFactory(agency=agency, name="Archive", shelf_life_years=30, migration_years=5)
    control = ControlFactory(agency=agency)
    vector = ThreatVectorFactory()
    client.force_login(member_of(agency, RoleChoices.ADMIN))
    pages = ["/"]
    for name in ("risk", "threatvector", "riskmatrix", "asset", "control", "riskacceptance"):
        pages += [reverse(f"risks:{name}_list"), reverse(f"risks:{name}_add")]
    pages.remove(reverse("risks:threatvector_add"))  # the catalog is the platform's, not the agency's
    pages.append(reverse("risks:threatvector_detail", args=[vector.pk]))
    for obj in (asset, control):
        name = obj._meta.model_name
        pages += [reverse(f"risks:{name}_detail", args=[obj.pk]), reverse(f"risks:{name}_edit", args=[obj.pk]),
                  reverse(f"risks:{name}_history", args=[obj.pk])]
    answers = {url: client.get(url).status_code for url in pages}
    assert {url: status for url, status in answers.items() if status != 200} == {}
    html = client.get(reverse("risks:asset_list")).content.decode()
    assert "Archive" in html
    assert "no risk matrix" in html  # the Mosca columns say why they are empty


def test_the_api_gives_no_exposure_without_a_matrix_and_its_schema_says_it_may(api_as, agency, member_of):
    risk_matrix_ensure(agency).delete()
    asset = AssetFactory(agency=agency, name="Archive", shelf_life_years=30, migration_years=5)
    client = api_as(member_of(agency, RoleChoices.VIEWER))
    assert client.get(f"/api/assets/{asset.pk}/").json()["exposure"] is None
    schema = client.get("/api/schema/", {"format": "json"}).json()
    assert schema["components"]["schemas"]["Asset"]["properties"]["exposure"]["nullable"] is True
