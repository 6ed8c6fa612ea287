"""Document importers: formats where one file is one structured document (e.g. a CycloneDX JSON
BOM) rather than rows under a header. They share everything else with tabular imports: the
ImportRun record, the upload checks, the background task, the run pages and the API.

An app declares one DocumentImporter subclass in its imports.py and passes an instance to
register_document(). Its `execute()` runs inside the run's transaction (all or nothing): it writes
through the core services and returns the counts, or raises qgov.imports.services.ImportFailed
with problems whose `field` locates each one in the document (e.g. a JSON path) and whose `row` is 0.
"""

from pathlib import PurePath


class DocumentImporter:
    model = None  # the model the documents create and update
    format: str = ""  # stored on the run; unique among importers and parsers
    label: str = ""  # e.g. "CycloneDX JSON", shown on the upload page
    extensions: tuple[str, ...] = ()  # accepted file name endings, e.g. (".json",)
    description: str = ""  # what the upload page says about the document

    def upload_problems(self, upload, max_bytes: int) -> list[str]:
        """What refuses the upload before a run is queued (the size and the name are checked already)."""
        return []

    def execute(self, run, file) -> dict:
        """Import the document (`file`: the stored upload, binary) for `run`; return the counts
        {"created", "updated", "unchanged"} or raise ImportFailed."""
        raise NotImplementedError

    def accepts(self, filename: str) -> bool:
        name = PurePath(filename).name.lower()
        return any(name.endswith(extension) for extension in self.extensions)


_DOCUMENTS: dict[str, DocumentImporter] = {}


def register_document(importer: DocumentImporter) -> DocumentImporter:
    """Make `importer.model` importable from `importer.format` documents (called from an app's imports.py)."""
    if importer.model is None or not importer.format:
        raise ValueError(f"{type(importer).__name__}: set model and format")
    _DOCUMENTS[importer.format] = importer
    return importer


def document_importer_for(model) -> DocumentImporter | None:
    return next((importer for importer in _DOCUMENTS.values() if importer.model is model), None)


def document_importer_named(format: str) -> DocumentImporter | None:
    return _DOCUMENTS.get(format)


def run_request_id(run_id: int) -> str:
    """The audit request id of the writes a run makes: its changes are the audit events carrying it."""
    return f"import-run-{run_id}"
