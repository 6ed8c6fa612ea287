"""Hostile request bodies, through the API: each is a 4xx in the one error shape, nothing is
written, and none is a server error."""

import io
import json
import zipfile

import pytest
from openpyxl import Workbook

from qgov.choices import RoleChoices
from qgov.models import AuditEvent, ImportRun
from risks.models import Risk
from risks.services import risk_matrix_ensure
from tests.risks.factories import RiskFactory

DEEP = 5_000


def deeply_nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.fixture
def setup(agency, member_of, api_as):
    risk_matrix_ensure(agency)
    editor = member_of(agency, RoleChoices.EDITOR)
    return {"client": api_as(editor), "agency": agency, "risk": RiskFactory(agency=agency, title="Link A")}


def valid_payload(agency) -> dict:
    return {"agency": agency.pk, "title": "Detector blinding on link A", "inherent_likelihood": 3,
            "inherent_impact": 5}


def send(setup, method: str, body: bytes | str):
    client = setup["client"]
    path = "/api/risks/" if method == "post" else f"/api/risks/{setup['risk'].pk}/"
    return getattr(client, method)(path, body, content_type="application/json")


def assert_refused(response, setup, status: int = 400) -> dict:
    assert response.status_code == status, response.content[:300]
    body = response.json()
    assert set(body) == {"status", "code", "detail", "errors"}
    assert body["status"] == status
    return body


def raw(agency, title_json: str, **other) -> str:
    """A request body with `title` spliced in as raw JSON text."""
    fields = {"agency": agency.pk, "inherent_likelihood": 3, "inherent_impact": 5, **other}
    return json.dumps(fields)[:-1] + f', "title": {title_json}}}'


@pytest.fixture
def nothing_written(setup):
    before = (Risk.objects.count(), AuditEvent.objects.count(),
              Risk.objects.values_list("title", "version").get(pk=setup["risk"].pk))
    yield
    assert (Risk.objects.count(), AuditEvent.objects.count(),
            Risk.objects.values_list("title", "version").get(pk=setup["risk"].pk)) == before


@pytest.mark.parametrize("method", ["post", "patch"])
def test_a_body_nested_5000_levels_deep_is_400(setup, method, nothing_written):
    # The standard library's decoder recursed out: a 500.
    response = send(setup, method, raw(setup["agency"], deeply_nested(DEEP)))

    assert assert_refused(response, setup) == {
        "status": 400, "code": "parse_error", "errors": {},
        "detail": "JSON parse error - nested deeper than 32 levels.",
    }


def test_nesting_the_decoder_can_read_but_no_field_needs_is_400(setup, nothing_written):
    response = send(setup, "post", raw(setup["agency"], deeply_nested(33)))

    assert assert_refused(response, setup)["code"] == "parse_error"


def test_nesting_within_the_limit_reaches_the_fields(setup, nothing_written):
    response = send(setup, "post", raw(setup["agency"], deeply_nested(31)))

    assert assert_refused(response, setup)["errors"] == {"title": ["Not a valid string."]}


def test_a_20_mb_body_is_refused(setup, nothing_written):
    body = raw(setup["agency"], json.dumps("x" * (20 * 1024 * 1024)))

    response = send(setup, "post", body)

    assert assert_refused(response, setup, status=413) == {
        "status": 413, "code": "too_large", "errors": {},
        "detail": "The request body is larger than the server accepts.",
    }


@pytest.mark.parametrize(
    ("title_json", "errors"),
    [
        ('"Link\\u0000B"', {"title": ["Null characters are not allowed."]}),
        ('"Link \\ud800"', {"title": ["Surrogate characters are not allowed: U+D800."]}),
        (json.dumps("x" * 1024 * 1024), {"title": ["Ensure this field has no more than 200 characters."]}),
    ],
    ids=["nul-byte", "lone-surrogate", "1-mb-title"],
)
@pytest.mark.parametrize("method", ["post", "patch"])
def test_hostile_strings_are_field_errors(setup, method, title_json, errors, nothing_written):
    response = send(setup, method, raw(setup["agency"], title_json))

    assert assert_refused(response, setup)["errors"] == errors


@pytest.mark.parametrize("method", ["post", "patch"])
def test_invalid_utf8_is_a_parse_error(setup, method, nothing_written):
    body = raw(setup["agency"], '"Link ').encode() + b'\xff\xfe"}'

    response = send(setup, method, body)

    body = assert_refused(response, setup)
    assert body["code"] == "parse_error"
    assert body["detail"].startswith("JSON parse error - 'utf-8' codec can't decode byte 0xff")


@pytest.mark.parametrize(
    ("other", "errors"),
    [
        ({"review_date": "99999-01-01"},
         {"review_date": ["Date has wrong format. Use one of these formats instead: YYYY-MM-DD."]}),
    ],
    ids=["year-99999"],
)
@pytest.mark.parametrize("method", ["post", "patch"])
def test_out_of_range_dates_are_field_errors(setup, method, other, errors, nothing_written):
    response = send(setup, method, raw(setup["agency"], '"Link B"', **other))

    assert assert_refused(response, setup)["errors"] == errors


@pytest.mark.parametrize("method", ["post", "patch"])
def test_a_number_beyond_double_precision_is_a_field_error(setup, method, nothing_written):
    # 1e400 decodes to infinity.
    body = raw(setup["agency"], '"Link B"').replace('"inherent_likelihood": 3', '"inherent_likelihood": 1e400')

    response = send(setup, method, body)

    assert assert_refused(response, setup)["errors"] == {"inherent_likelihood": ["A valid integer is required."]}


def xlsx_zip_bomb() -> bytes:
    """A small XLSX whose first worksheet inflates to 210 MB of one repeated row."""
    workbook = Workbook()
    workbook.active.append(["title", "inherent_likelihood", "inherent_impact"])
    template = io.BytesIO()
    workbook.save(template)
    row = b'<row><c t="inlineStr"><is><t>Detector blinding</t></is></c><c><v>3</v></c><c><v>5</v></c></row>'
    repeats = 210 * 1024 * 1024 // len(row)
    bomb = io.BytesIO()
    with zipfile.ZipFile(template) as source, zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            if item.filename == "xl/worksheets/sheet1.xml":
                with target.open(item.filename, "w", force_zip64=True) as sheet:
                    sheet.write(b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.'
                                b'openxmlformats.org/spreadsheetml/2006/main"><sheetData>')
                    for _ in range(repeats // 1000):
                        sheet.write(row * 1000)
                    sheet.write(b"</sheetData></worksheet>")
            else:
                target.writestr(item, source.read(item.filename))
    return bomb.getvalue()


def test_an_xlsx_zip_bomb_is_refused_at_upload(agency, member_of, import_file):
    # It was queued and its run read 50,000 rows of it before failing (some 40 s of a worker).
    risk_matrix_ensure(agency)
    editor = member_of(agency, RoleChoices.EDITOR)
    bomb = xlsx_zip_bomb()
    assert len(bomb) < 1024 * 1024
    before = (Risk.objects.count(), AuditEvent.objects.count())

    response = import_file(editor, bomb, name="register.xlsx")

    assert response.status_code == 400
    assert response.json() == {
        "status": 400, "code": "invalid", "detail": "Invalid input.",
        "errors": {"file": ["This workbook would unpack to 209.9\xa0MB; an import may unpack to at most "
                            "200.0\xa0MB."]},
    }
    assert (Risk.objects.count(), AuditEvent.objects.count(), ImportRun.objects.count()) == (*before, 0)


@pytest.mark.parametrize("path", ["/api/risks/0.5/", "/api/risks/1/%0A/sent/", "/api/nothing/%0A%F3%8D%82%84/"])
def test_a_path_that_names_no_operation_is_a_404_in_the_error_shape(setup, path):
    """Also with an encoded newline in a segment: it once fell through to the site's HTML 404 page."""
    response = setup["client"].post(path, "{}", content_type="application/json")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["code"] == "not_found"
