"""The report PDF read back: its text (pdftotext), pages, PDF/A identification, attachments, page size,
and a rendering that cannot be made to fetch anything but its own stylesheet."""

import http.server
import io
import re
import shutil
import subprocess
import threading
from pathlib import Path

import pytest
from django.conf import settings
from pypdf import PdfReader

from qgov.reports.document import Column, ReportTable, SectionData
from qgov.reports.pdf import REPORT_ASSETS_DIR, Attachment, RefusedUrl, cell_text, render_pdf, report_url_fetcher
from tests.reports.documents import EVIDENCE_SHA, pdfa_identification, register_rows, small_document

pytestmark = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils (pdftotext) is not installed")

ARTIFACTS = Path(settings.BASE_DIR) / "artifacts" / "reports"
CSV = b"report,compliance\r\nrun,17\r\n"
JSON = b'{"format": "qgov-report/1", "run": 17}'


def page_texts(data: bytes) -> list[str]:
    text = subprocess.run(["pdftotext", "-layout", "-", "-"], input=data, capture_output=True, check=True).stdout
    return text.decode().split("\f")[:-1]


@pytest.fixture(scope="module")
def rendered():
    return render_pdf(small_document(register_count=60), attachments=[
        Attachment("report-17.csv", CSV, "text/csv", "The report's data as CSV"),
        Attachment("report-17.json", JSON, "application/json", "The report's data as JSON")])


def test_every_page_carries_the_marking_top_and_bottom_and_its_number(rendered):
    pages = page_texts(rendered.data)

    assert rendered.pages == len(pages) == len(PdfReader(io.BytesIO(rendered.data)).pages) == 5
    for number, text in enumerate(pages, start=1):
        lines = [line for line in text.splitlines() if line.strip()]
        assert "OFFICIAL-SENSITIVE" in lines[0], number
        assert "OFFICIAL-SENSITIVE" in lines[-1], number
        assert f"Page {number} of 5" in lines[-1]
        assert "Run #17 · 2026-12-01 06:30 UTC" in lines[-1]
        assert "DQN · Department of Quantum Networks" in lines[0]


def test_the_cover_names_agency_kind_period_time_generator_and_run(rendered):
    cover = " ".join(page_texts(rendered.data)[0].split())

    for expected in ("Compliance report", "Department of Quantum Networks DQN", "Period as of 2026-11-30",
                     "Data as of 2026-11-30 23:00 UTC", "Generated at 2026-12-01 06:30 UTC", "Generator qgov 0.1.0",
                     "Run #17", "Handling marking OFFICIAL-SENSITIVE", "Parameters status: assessed, in_treatment"):
        assert expected in cover


def test_the_contents_give_each_section_and_table_its_page(rendered):
    contents = [" ".join(line.replace(".", " ").split()) for line in page_texts(rendered.data)[1].splitlines()]
    entries = {line.rsplit(" ", 1)[0]: line.rsplit(" ", 1)[1] for line in contents if line[:1].isdigit()}

    # pdftotext may put a dotted leader's number on its own line; those that it keeps must be these.
    expected = {"1 Risk posture": "3", "1 1 Top risks": "3", "1 2 Acceptances expiring": "4", "2 Suppliers": "5",
                "2 1 Due-diligence reviews": "5"}
    assert {title: entries[title] for title in entries if title in expected} == {
        title: page for title, page in expected.items() if title in entries}
    assert {"1 Risk posture", "1 2 Acceptances expiring", "2 Suppliers", "2 1 Due-diligence reviews"} <= set(entries)


def test_sections_show_figures_tables_empty_text_and_evidence(rendered):
    pages = page_texts(rendered.data)
    section = " ".join(" ".join(pages[2:4]).split())

    assert "1 Risk posture The agency's risks as of the report's date." in section
    assert "Open risks Overdue reviews Mosca exposure (years) Unknown 42 3 2.50 —" in section
    assert "Reference Title Owner Band Score Review due Last change" in section
    assert "RSK-0001 Detector blinding on link 1 A. Ahmed High 2 2027-01-02" in section
    assert "No acceptance expires." in section
    assert "Evidence relied on Data as of 2026-11-30 23:00 UTC." in section
    assert "pentest-2026.pdf" in section and "RSK-0001 Detector blinding on link 1" in section
    assert EVIDENCE_SHA[:32] in section.replace(" ", "")
    suppliers = " ".join(pages[4].split())
    assert "QuantumLink AG 87 2026-09-14" in suppliers and "Photon Systems Ltd 64 —" in suppliers
    assert "This section relies on no evidence files." in suppliers


def test_the_table_header_is_repeated_on_the_page_it_continues_on(rendered):
    continued = page_texts(rendered.data)[3]

    assert " ".join(continued.split()).count("Reference Title Owner Band Score Review due Last change") == 1
    assert "RSK-0060" in continued


def test_numbers_are_right_aligned_and_values_formatted():
    assert [cell_text(value, kind) for value, kind in [
        (2033, "number"), (2.5, "number"), (None, "date"), (True, "text"), (["a", "b"], "text")]] == [
        "2033", "2.50", "—", "Yes", "a, b"]
    css = (REPORT_ASSETS_DIR / "report.css").read_text()
    assert "table.data .num { text-align: right;" in css


def test_it_is_pdfa_3b_with_the_csv_and_json_embedded_byte_for_byte(rendered):
    reader = PdfReader(io.BytesIO(rendered.data))

    assert pdfa_identification(reader) == ("3", "B")
    assert reader.attachments == {"report-17.csv": [CSV], "report-17.json": [JSON]}
    specs = {spec["/F"]: spec for spec in reader.trailer["/Root"]["/AF"]}
    assert {name: (spec["/AFRelationship"], spec["/EF"]["/F"].get_object()["/Subtype"])
            for name, spec in specs.items()} == {"report-17.csv": ("/Data", "/text/csv"),
                                                 "report-17.json": ("/Data", "/application/json")}


@pytest.mark.parametrize(("page_size", "box"), [("A4", (595, 842)), ("Letter", (612, 792))])
def test_page_sizes(page_size, box):
    data = render_pdf(small_document(page_size=page_size), attachments=[]).data
    first = PdfReader(io.BytesIO(data)).pages[0].mediabox

    assert (round(first.width), round(first.height)) == box


def test_pages_look_right(rendered):
    """Writes the first pages as PNG into artifacts/reports/ (looked at when this was written)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "report.pdf").write_bytes(rendered.data)
    subprocess.run(["pdftoppm", "-r", "60", "-png", "-f", "1", "-l", "4", str(ARTIFACTS / "report.pdf"),
                    str(ARTIFACTS / "report")], check=True)
    assert sorted(path.name for path in ARTIFACTS.glob("report-*.png")) == [
        "report-1.png", "report-2.png", "report-3.png", "report-4.png"]


# --- Nothing is fetched but the report's own files --------------------------------------------


class CountingHandler(http.server.BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self):  # noqa: N802 - the http.server interface
        CountingHandler.hits.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "image/svg+xml")
        self.end_headers()
        self.wfile.write(b'<svg xmlns="http://www.w3.org/2000/svg" width="9" height="9"/>')

    def log_message(self, *args):
        pass


@pytest.fixture
def counting_server():
    CountingHandler.hits = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), CountingHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_crafted_values_are_escaped_text_and_nothing_is_fetched(counting_server, tmp_path):
    import urllib.request

    urllib.request.urlopen(f"{counting_server}/control").read()  # the server counts what reaches it
    assert CountingHandler.hits == ["/control"]
    CountingHandler.hits = []
    url = f"{counting_server}/x"
    secret = tmp_path / "secret.css"
    secret.write_text("body { color: red }")
    crafted = [f'<img src="{url}">', f"<style>body {{ background: url({url}/css) }}</style>",
               f'<link rel="stylesheet" href="{url}/link">', f"url({url}/bare)",
               f'<svg><image href="{url}/svg"/></svg>']
    document = small_document(title=crafted[0])
    document.sections.append(SectionData(
        key="crafted", title=crafted[1], intro=crafted[2],
        tables=[ReportTable("cells", crafted[3], [Column("value", crafted[4])],
                            rows=[{"value": value} for value in crafted])]))
    fetcher = report_url_fetcher()
    # A chart's SVG is passed as is: the fetcher is the wall there.
    document.sections[0].charts[0] = type(document.sections[0].charts[0])(
        "current", "Current", f'<svg xmlns="http://www.w3.org/2000/svg" width="20" height="20">'
                              f'<image href="{url}/chart" width="9" height="9"/></svg>')
    data = render_pdf(document, attachments=[], url_fetcher=fetcher).data

    for address in (url, f"{url}/css", f"file://{secret}", "data:text/css,body{}", "ftp://127.0.0.1/x",
                    REPORT_ASSETS_DIR.as_uri() + "/../../manage.py", REPORT_ASSETS_DIR.as_uri() + "/report.css?x"):
        with pytest.raises(RefusedUrl):
            fetcher.fetch(address)
    assert CountingHandler.hits == []
    assert set(fetcher.served) == {f"{REPORT_ASSETS_DIR.as_uri()}/{name}" for name in ("report.css", "running.css")}
    assert f"{url}/chart" in fetcher.refused
    text = " ".join(" ".join(page_texts(data)).split())
    for value in crafted:
        assert " ".join(value.split()) in text


def test_a_table_with_rows_read_once_from_a_generator():
    reads = []

    def rows():
        reads.append(1)
        return register_rows(5)

    document = small_document()
    document.sections[0].tables[0].rows = rows
    render_pdf(document, attachments=[])

    assert reads == [1]


def test_a_long_table_is_laid_out_in_volumes_that_read_as_one_document():
    data = render_pdf(small_document(register_count=130), attachments=[], chunk_rows=20, volume_rows=40).data
    pages = page_texts(data)
    text = " ".join(" ".join(pages).split())

    assert text.count("1.1 Top risks (continued)") == 3  # volumes cut after 40, 80 and 120 rows
    assert text.count("Reference Title Owner Band Score Review due Last change") == len(
        [page for page in pages if "RSK-0" in page])
    references = re.findall(r"RSK-(\d{4}) Detector blinding on link \d+ A\. Ahmed", text)
    assert [int(reference) for reference in references] == list(range(1, 131))
    total = len(pages)
    assert all(f"Page {number} of {total}" in page for number, page in enumerate(pages, start=1))
    assert all(page.count("OFFICIAL-SENSITIVE") >= 2 for page in pages)


def test_the_outline_lists_sections_and_tables_at_their_pages(rendered):
    reader = PdfReader(io.BytesIO(rendered.data))
    outline = reader.outline

    def entry(item):
        return item.title, reader.get_destination_page_number(item) + 1

    sections = [entry(item) for item in outline if not isinstance(item, list)]
    assert sections == [("1 Risk posture", 3), ("2 Suppliers", 5)]
    assert [entry(item) for item in outline[1]] == [("1.1 Top risks", 3), ("1.2 Acceptances expiring", 4)]


def test_document_information_agrees_with_the_xmp_metadata(rendered):
    reader = PdfReader(io.BytesIO(rendered.data))

    assert reader.metadata["/Title"] == "Compliance report: Department of Quantum Networks"
    assert reader.metadata["/Producer"] == "WeasyPrint 70.0"
    xmp = reader.trailer["/Root"]["/Metadata"].get_object().get_data().decode()
    assert "Compliance report: Department of Quantum Networks" in xmp and "WeasyPrint 70.0" in xmp


def test_volumes_laid_out_in_two_processes_make_the_same_pages():
    document = small_document(register_count=130)
    here = render_pdf(document, attachments=[], chunk_rows=20, volume_rows=40, processes=1)
    forked = render_pdf(document, attachments=[], chunk_rows=20, volume_rows=40, processes=2)

    assert forked.pages == here.pages
    assert page_texts(forked.data) == page_texts(here.data)


def test_a_report_without_sections_is_its_cover_and_contents():
    document = small_document()
    document.sections = []
    rendered = render_pdf(document, attachments=[], processes=2)
    pages = page_texts(rendered.data)

    assert rendered.pages == len(pages) == 2
    assert "Page 2 of 2" in pages[1] and "Contents" in pages[1]


def _render_in_a_daemon(queue):
    document = small_document(register_count=130)
    try:
        rendered = render_pdf(document, attachments=[], chunk_rows=20, volume_rows=40, processes=2)
        queue.put(("ok", rendered.pages))
    except Exception as error:  # noqa: BLE001 - sent back to the test to show
        queue.put(("error", repr(error)))


def test_volumes_are_laid_out_in_processes_from_a_daemonic_worker_process_too():
    """Celery's prefork workers run tasks in daemonic processes, which may not start children unless
    the renderer lifts the flag for its pool."""
    import multiprocessing

    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    worker = context.Process(target=_render_in_a_daemon, args=(queue,), daemon=True)
    worker.start()
    outcome = queue.get(timeout=240)
    worker.join(timeout=30)
    here = render_pdf(small_document(register_count=130), attachments=[], chunk_rows=20, volume_rows=40, processes=1)
    assert outcome == ("ok", here.pages)
