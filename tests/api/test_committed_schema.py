"""The committed OpenAPI schema (docs/openapi.yaml), which agency systems generate their clients
from: it is the one the code generates, whatever the machine, database or DEBUG setting, and it
is written so that generators make clean clients of it (named enums without "" or null members, no
host-dependent or huge enums). tests/api/test_generated_clients.py generates the clients."""

import difflib
import re
from functools import cache

import pytest
import yaml
from django.conf import settings
from django.core.management import call_command
from drf_spectacular.plumbing import load_enum_name_overrides
from drf_spectacular.settings import spectacular_settings

from qgov.api.serializers import portable_integer_bounds
from qgov.choices import RoleChoices
from qgov.models import Agency

SCHEMA_FILE = settings.BASE_DIR / "docs" / "openapi.yaml"
# The largest choice set served as an enum. A larger one (a list of time zones, countries, currencies)
# is a validated string: long enums bloat every generated client and drift with reference data.
LARGEST_ENUM = 60


@cache
def committed_schema() -> dict:
    return yaml.load(SCHEMA_FILE.read_text(), Loader=yaml.CSafeLoader)


def enums_anywhere(node, path=""):
    """(path, members) of every enum in the document: components, properties, parameters."""
    if isinstance(node, dict):
        if "enum" in node:
            yield path, node["enum"]
        for key, value in node.items():
            yield from enums_anywhere(value, f"{path}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from enums_anywhere(value, f"{path}[{index}]")


def test_the_committed_schema_is_the_one_the_code_generates(tmp_path):
    # The same command as `make schema`, in the test settings (DEBUG off, this run's database): the file
    # must not depend on either.
    regenerated = tmp_path / "openapi.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(regenerated))

    new, old = regenerated.read_text(), SCHEMA_FILE.read_text()
    if new != old:
        diff = difflib.unified_diff(old.splitlines(), new.splitlines(), "docs/openapi.yaml (committed)",
                                    "docs/openapi.yaml (generated now)", lineterm="", n=2)
        shown = "\n".join(line for _, line in zip(range(80), diff, strict=False))
        pytest.fail(f"docs/openapi.yaml is out of date: run `make schema` and commit the file.\n{shown}")


def test_no_enum_has_a_blank_or_null_member_or_is_huge():
    found = list(enums_anywhere(committed_schema()))
    assert len(found) > 100  # the walk reaches component enums and parameter enums alike

    assert [path for path, members in found if "" in members or None in members] == []
    assert [path for path, members in found if len(members) > LARGEST_ENUM] == []
    schemas = committed_schema()["components"]["schemas"]
    assert {"BlankEnum", "NullEnum", "TimeZoneEnum"} & set(schemas) == set()


def _enum_refs(node):
    if isinstance(node, dict):
        if "$ref" in node and node["$ref"].endswith("Enum"):
            yield node["$ref"].rsplit("/", 1)[1]
        for value in node.values():
            yield from _enum_refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _enum_refs(value)


def _camel(name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[_\-\s]+", name))


def test_every_enum_is_named_for_what_it_lists():
    # drf-spectacular names a choice set after the field, or the override that names it; when fields
    # of one name hold different choice sets it falls back to a hash ("Status0bcEnum"), which changes
    # whenever a choice does: every generated client would rename its class.
    schemas = committed_schema()["components"]["schemas"]
    overrides = set(load_enum_name_overrides().values())
    suffix = spectacular_settings.ENUM_SUFFIX
    names_from_fields = {}
    for component, schema in schemas.items():
        base = re.sub(r"^Patched|Request$", "", component)
        for prop, prop_schema in (schema.get("properties") or {}).items():
            for ref in _enum_refs(prop_schema):
                names_from_fields.setdefault(ref, set()).update(
                    {f"{_camel(prop)}{suffix}", f"{base}{_camel(prop)}{suffix}"})

    enums = sorted(name for name, schema in schemas.items() if "enum" in schema)
    assert len(enums) >= 45
    unnamed = [name for name in enums if name not in overrides and name not in names_from_fields.get(name, ())]
    assert unnamed == []


def test_the_agency_time_zone_is_a_validated_string_in_the_schema():
    schemas = committed_schema()["components"]["schemas"]

    assert schemas["Agency"]["properties"]["time_zone"] == {
        "type": "string", "maxLength": 64, "pattern": "^[A-Za-z0-9_+-]+(/[A-Za-z0-9_+-]+)*$",
        "example": "Europe/Brussels",
        "description": "An IANA time-zone name, e.g. Europe/Brussels (default UTC): dates and deadlines of the "
                       "agency are counted in it."}
    assert "time_zone" not in schemas["AgencyRequest"].get("required", [])


def test_an_unset_choice_is_a_nullable_enum():
    schemas = committed_schema()["components"]["schemas"]

    assert schemas["RequiredScheme"]["properties"]["device_kind"]["allOf"] == [
        {"$ref": "#/components/schemas/DeviceKindEnum"}]
    assert schemas["RequiredScheme"]["properties"]["device_kind"]["nullable"] is True
    assert schemas["DeviceKindEnum"]["enum"][:2] == ["qkd_transmitter", "qkd_receiver"]


def test_version_is_optional_in_request_bodies():
    # Sent only on updates, by clients that cannot send If-Match; a generated client must not demand it.
    schemas = committed_schema()["components"]["schemas"]
    demanding = [name for name, schema in schemas.items() if "version" in schema.get("required", ())
                 and name.endswith("Request")]
    assert demanding == []
    assert schemas["RiskRequest"]["required"] == ["agency", "inherent_impact", "inherent_likelihood", "title"]


def test_relations_read_as_one_brief_record_component():
    schemas = committed_schema()["components"]["schemas"]

    assert schemas["BriefRecord"]["required"] == ["display", "id", "url"]
    assert schemas["Agency"]["properties"]["parent"] == {
        "allOf": [{"$ref": "#/components/schemas/BriefRecord"}], "nullable": True, "title": "Parent agency"}
    assert schemas["AgencyRequest"]["properties"]["parent"] == {"type": "integer", "nullable": True,
                                                                "title": "Parent agency"}


def test_integer_bounds_are_the_same_on_every_database():
    # SQLite stores 64 bits in any integer column; the API bounds a small integer as PostgreSQL does.
    from risks.models import ThreatVector

    assert portable_integer_bounds(Agency._meta.get_field("version")) == {"min_value": 0, "max_value": 2**31 - 1}
    assert portable_integer_bounds(ThreatVector._meta.get_field("default_likelihood")) == {
        "min_value": 1, "max_value": 5}


# --- the API's behaviour behind those schemas --------------------------------------------------------


def test_a_time_zone_is_checked_against_the_zone_data(agency, member_of, api_as):
    client = api_as(member_of(agency, RoleChoices.ADMIN))

    response = client.patch(f"/api/agencies/{agency.pk}/", {"time_zone": "Mars/Olympus"}, format="json")

    assert response.status_code == 400
    assert response.json()["errors"] == {"time_zone": [
        '"Mars/Olympus" is not a time zone: send an IANA time-zone name, e.g. Europe/Brussels or UTC.']}
    agency.refresh_from_db()
    assert (agency.time_zone, agency.version) == ("Europe/Brussels", 1)

    response = client.patch(f"/api/agencies/{agency.pk}/", {"time_zone": "America/Argentina/Buenos_Aires"},
                            format="json")

    assert response.status_code == 200
    assert response.json()["time_zone"] == "America/Argentina/Buenos_Aires"
    agency.refresh_from_db()
    assert (agency.time_zone, agency.version) == ("America/Argentina/Buenos_Aires", 2)


def test_an_unset_choice_reads_and_writes_as_null(agency, member_of, api_as):
    from certification.models import RequiredScheme
    from tests.certification.factories import RequiredSchemeFactory

    requirement = RequiredSchemeFactory(agency=agency, device_kind="", personnel_role="qkd_operator")
    client = api_as(member_of(agency, RoleChoices.ADMIN))

    response = client.get(f"/api/required-schemes/{requirement.pk}/")
    assert (response.json()["device_kind"], response.json()["personnel_role"]) == (None, "qkd_operator")

    # "" is not a member of the enum, so it is refused like any other value outside it; nothing changes.
    response = client.patch(f"/api/required-schemes/{requirement.pk}/",
                            {"device_kind": "qkd_transmitter", "personnel_role": ""}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == {"personnel_role": ['"" is not a valid choice.']}
    requirement.refresh_from_db()
    assert (requirement.device_kind, requirement.personnel_role, requirement.version) == ("", "qkd_operator", 1)

    response = client.patch(f"/api/required-schemes/{requirement.pk}/",
                            {"device_kind": "qkd_transmitter", "personnel_role": None}, format="json")
    assert response.status_code == 200
    assert (response.json()["device_kind"], response.json()["personnel_role"]) == ("qkd_transmitter", None)
    stored = RequiredScheme.objects.get(pk=requirement.pk)
    assert (stored.device_kind, stored.personnel_role, stored.version) == ("qkd_transmitter", "", 2)

