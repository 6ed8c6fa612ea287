"""One PDF from the report's parts (qgov.reports.pdf): the front (cover and contents, rendered as
PDF/A-3b with the attachments and the document's metadata) is the base file; the body volumes' pages
follow it; each page gets its running header and footer from the matching page of the "running"
document; the outline (bookmarks) lists sections and tables.

The base keeps its catalog: XMP metadata (pdfaid part 3, conformance B), output intent, embedded files
and their /AF entries, document information. Every part is itself rendered as PDF/A-3b, so the pages
brought over carry embedded fonts and nothing PDF/A forbids."""

import io

from pypdf import PdfReader, PdfWriter


def assemble(front: bytes, body: list[bytes], running: bytes, outline: list[dict]) -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(front)))
    information = dict(writer._info.get_object()) if writer._info is not None else {}
    for volume in body:
        for page in PdfReader(io.BytesIO(volume)).pages:
            writer.add_page(page)
    overlays = PdfReader(io.BytesIO(running)).pages
    if len(overlays) != len(writer.pages):
        raise RuntimeError(f"The running header has {len(overlays)} pages for {len(writer.pages)}.")
    for page, overlay in zip(writer.pages, overlays, strict=True):
        page.merge_page(overlay)
        page.compress_content_streams()
    for section in outline:
        parent = writer.add_outline_item(title=f"{section['number']} {section['title']}",
                                         page_number=section["page"] - 1)
        for table in section["tables"]:
            writer.add_outline_item(title=f"{table['number']} {table['title']}", page_number=table["page"] - 1,
                                    parent=parent)
    writer.page_mode = "/UseOutlines"
    if information:  # as the front had them, matching its XMP metadata (PDF/A wants both to agree)
        writer._info.get_object().clear()
        writer._info.get_object().update(information)
    output = io.BytesIO()
    writer.write(output)
    return output.getvalue()
