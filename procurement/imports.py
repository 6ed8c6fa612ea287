"""What procurement lets people import: CycloneDX JSON BOMs of components (a core document import)."""

from procurement.cyclonedx import CycloneDxImporter
from qgov.imports.documents import register_document

register_document(CycloneDxImporter())
