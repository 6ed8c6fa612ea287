"""Each kind of report built from the demo agency's data across every app, then read back from the
PDF as an auditor's tools would: its text (pdftotext), its PDF/A identification, its attachments
(the run's CSV and JSON, byte for byte) and its signature. One page of each kind is rendered to PNG
under artifacts/reports/ for people to look at."""

import io
import json
import shutil
import subprocess

import pytest
from django.conf import settings
from django.core.management import call_command

from qgov.choices import ImportRunStatusChoices as RunStatus
from qgov.choices import RoleChoices
from qgov.models import Agency, Membership
from qgov.reports import services
from qgov.reports.choices import ReportKindChoices
from qgov.reports.signing import check_signature

pytestmark = [pytest.mark.django_db, pytest.mark.skipif(shutil.which("pdftotext") is None,
                                                        reason="needs poppler-utils (make test installs it)")]

ARTIFACTS = settings.BASE_DIR / "artifacts" / "reports"


@pytest.fixture
def demo_agency(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    call_command("load_catalogs", stdout=io.StringIO())
    call_command("load_demo", password="demo-password-for-tests", stdout=io.StringIO())
    return Agency.objects.get(code="DEMO")


def pdf_text(data: bytes) -> str:
    return subprocess.run(["pdftotext", "-layout", "-", "-"], input=data, capture_output=True,  # noqa: S607
                          check=True).stdout.decode()


def read(report_file) -> bytes:
    with report_file.file.open("rb") as handle:
        return handle.read()


@pytest.mark.parametrize("kind", ReportKindChoices.values)
def test_the_pdf_carries_every_section_its_figures_the_run_and_its_data(demo_agency, kind,
                                                                       django_capture_on_commit_callbacks):
    from pypdf import PdfReader

    auditor = Membership.objects.get(agency=demo_agency, role=RoleChoices.AUDITOR).user
    with django_capture_on_commit_callbacks(execute=True):
        run = services.report_run_request(user=auditor, agency=demo_agency, kind=kind)
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED, run.error
    files = {report_file.format: report_file for report_file in run.files.all()}
    pdf = read(files["pdf"])
    text = pdf_text(pdf)
    pages = text.split("\f")[:-1]

    # The cover names the run; every page carries the marking, top and bottom.
    assert f"#{run.pk}" in pages[0] or f"Run {run.pk}" in pages[0]
    assert len(pages) == files["pdf"].pages == len(PdfReader(io.BytesIO(pdf)).pages)
    assert all(page.count(run.marking) >= 2 for page in pages), "a page without its marking"
    # Every section and every figure of the run's data (its JSON, written with the PDF) is in the text.
    data = json.loads(read(files["json"]))
    flat = " ".join(text.split())
    assert data["run"] == run.pk
    for section in data["sections"]:
        assert " ".join(section["title"].split()) in flat
        for figure in section["figures"].values():
            if isinstance(figure["value"], int) and not isinstance(figure["value"], bool):
                assert f"{figure['value']:,}" in flat or str(figure["value"]) in flat, figure
    # PDF/A-3b, the run's CSV and JSON inside it byte for byte, and our signature over the whole file.
    reader = PdfReader(io.BytesIO(pdf))
    xmp = reader.xmp_metadata
    assert (xmp.pdfaid_part, xmp.pdfaid_conformance) == ("3", "B")
    embedded = {name: content[0] for name, content in reader.attachments.items()}
    assert embedded == {files["csv"].filename: read(files["csv"]), files["json"].filename: read(files["json"])}
    assert check_signature(pdf).valid

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for old in ARTIFACTS.glob(f"{kind}-*.png"):
        old.unlink()
    subprocess.run(["pdftoppm", "-r", "50", "-png", "-f", "1", "-l", "3", "-", str(ARTIFACTS / kind)],  # noqa: S607
                   input=pdf, check=True)
    assert len(list(ARTIFACTS.glob(f"{kind}-*.png"))) == min(3, len(pages))


def test_the_public_summary_names_no_risk_supplier_device_person_or_incident(demo_agency,
                                                                            django_capture_on_commit_callbacks):
    from certification.models import Device
    from incidents.models import Incident
    from procurement.models import Supplier
    from risks.models import Risk

    auditor = Membership.objects.get(agency=demo_agency, role=RoleChoices.AUDITOR).user
    with django_capture_on_commit_callbacks(execute=True):
        run = services.report_run_request(user=auditor, agency=demo_agency, kind=ReportKindChoices.TRANSPARENCY)
    run.refresh_from_db()
    texts = {fmt: pdf_text(read(report_file)) if fmt == "pdf" else read(report_file).decode()
             for fmt, report_file in ((f.format, f) for f in run.files.all())}
    secrets = [*Risk.objects.filter(agency=demo_agency).values_list("reference", "title"),
               *Supplier.objects.filter(agency=demo_agency).values_list("name", "name"),
               *Device.objects.filter(agency=demo_agency).values_list("name", "serial"),
               *Incident.objects.filter(agency=demo_agency).values_list("reference", "title")]
    assert secrets, "the demo data should have records to hide"
    people = list(Membership.objects.filter(agency=demo_agency).values_list("user__username", flat=True))
    for fmt, text in texts.items():
        flat = " ".join(text.split())
        for values in secrets:
            for value in values:
                assert not value or " ".join(value.split()) not in flat, f"{value!r} is in the public {fmt}"
        for username in people:
            assert username not in flat
