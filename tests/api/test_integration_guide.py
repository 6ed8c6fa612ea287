"""The integration guide (docs/integrating.md) is part of the product: served at /api/guide/ and
linked from the API reference and from where agency admins issue tokens."""

from django.conf import settings

from qgov.choices import RoleChoices


def test_the_guide_is_served_as_written(client):
    response = client.get("/api/guide/")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    text = response.content.decode()
    assert text == (settings.BASE_DIR / "docs" / "integrating.md").read_text(encoding="utf-8")
    assert text.startswith("# Integrating with qgov\n")
    assert "\n## Generated clients\n" in text


def test_the_api_reference_links_the_guide(api_client):
    schema = api_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()

    assert schema["info"]["description"].endswith("[Integrating with qgov](/api/guide/).")


def test_agency_admins_find_the_guide_beside_the_tokens(client, agency, member_of):
    client.force_login(member_of(agency, RoleChoices.ADMIN))

    html = client.get("/agency/", follow=True).content.decode()

    assert '<a href="/api/guide/">Integrating with qgov</a>' in html
    assert '<a href="/api/docs/">API reference</a>' in html
