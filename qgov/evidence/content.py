"""What an evidence upload must be before anything is stored: an allowed type, within the size
limit, not empty, and — where it is cheap to tell — content that is what its extension claims.
The file is read once, in chunks, for the checks and the SHA-256 together."""

import codecs
import hashlib
import zipfile
from dataclasses import dataclass
from pathlib import PurePath

from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from qgov.files import CHUNK_SIZE

SIGNATURE_BYTES = 16  # enough for every signature below


@dataclass(frozen=True)
class KnownType:
    label: str
    media_type: str
    signatures: tuple[bytes, ...] = ()  # the file must start with one of these
    text: bool = False  # the file must decode as UTF-8
    zip_member_prefix: str | None = None  # a ZIP package; this member prefix must exist ("" for any ZIP)


_PDF = KnownType("PDF", "application/pdf", signatures=(b"%PDF-",))
_JPEG = KnownType("JPEG", "image/jpeg", signatures=(b"\xff\xd8\xff",))
KNOWN_TYPES: dict[str, KnownType] = {
    "pdf": _PDF,
    "png": KnownType("PNG", "image/png", signatures=(b"\x89PNG\r\n\x1a\n",)),
    "jpg": _JPEG,
    "jpeg": _JPEG,
    "gif": KnownType("GIF", "image/gif", signatures=(b"GIF87a", b"GIF89a")),
    "txt": KnownType("text", "text/plain", text=True),
    "csv": KnownType("CSV", "text/csv", text=True),
    "json": KnownType("JSON", "application/json", text=True),
    "xml": KnownType("XML", "application/xml", text=True),
    "md": KnownType("Markdown", "text/markdown", text=True),
    "zip": KnownType("ZIP", "application/zip", zip_member_prefix=""),
    "xlsx": KnownType("XLSX", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                      zip_member_prefix="xl/"),
    "docx": KnownType("DOCX", "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                      zip_member_prefix="word/"),
    "pptx": KnownType("PPTX", "application/vnd.openxmlformats-officedocument.presentationml.presentation",
                      zip_member_prefix="ppt/"),
}
UNKNOWN_MEDIA_TYPE = "application/octet-stream"


@dataclass(frozen=True)
class CheckedUpload:
    file_name: str
    extension: str
    media_type: str
    sha256: str
    size: int


def allowed_extensions() -> list[str]:
    return sorted(set(settings.QGOV_EVIDENCE_ALLOWED_TYPES))


def extension_of(name: str) -> str:
    return PurePath(name).suffix.lower().lstrip(".")


def _refuse(message) -> ValidationError:
    return ValidationError({"file": [message]})


def check_upload(upload) -> CheckedUpload:
    """The upload's name, type, SHA-256 and size, or a ValidationError on `file` saying what is
    refused and why. Reads the file once, in chunks; leaves it at its start."""
    file_name = PurePath(upload.name or "").name[-255:]
    extension = extension_of(file_name)
    allowed = allowed_extensions()
    if extension not in allowed:
        raise _refuse(_("“%(name)s” is not an allowed type of evidence file; allowed: %(types)s.") % {
            "name": file_name, "types": ", ".join(allowed)})
    limit = settings.QGOV_EVIDENCE_MAX_BYTES
    too_large = _("The file is %(size)s; evidence files may be at most %(limit)s.")
    if upload.size is not None and upload.size > limit:
        raise _refuse(too_large % {"size": filesizeformat(upload.size), "limit": filesizeformat(limit)})
    known = KNOWN_TYPES.get(extension)
    digest, size, head = hashlib.sha256(), 0, b""
    decoder = codecs.getincrementaldecoder("utf-8")() if known is not None and known.text else None
    upload.seek(0)
    try:
        for chunk in iter(lambda: upload.read(CHUNK_SIZE), b""):
            size += len(chunk)
            if size > limit:  # the declared size is the client's word; what is read decides
                raise _refuse(too_large % {"size": _("over %(limit)s") % {"limit": filesizeformat(limit)},
                                           "limit": filesizeformat(limit)})
            digest.update(chunk)
            if len(head) < SIGNATURE_BYTES:
                head += chunk[:SIGNATURE_BYTES - len(head)]
            if decoder is not None:
                decoder.decode(chunk)
        if decoder is not None:
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        raise _refuse(_("“%(name)s” is not UTF-8 text, as a .%(ext)s file must be.") % {
            "name": file_name, "ext": extension}) from None
    if size == 0:
        raise _refuse(_("The file is empty."))
    if known is not None:
        _check_content(upload, known, head, file_name)
    upload.seek(0)
    return CheckedUpload(file_name=file_name, extension=extension,
                         media_type=known.media_type if known is not None else UNKNOWN_MEDIA_TYPE,
                         sha256=digest.hexdigest(), size=size)


def _check_content(upload, known: KnownType, head: bytes, file_name: str) -> None:
    if known.signatures and not head.startswith(known.signatures):
        raise _refuse(_("“%(name)s” is not a %(type)s file: its content does not start as a %(type)s file does.")
                      % {"name": file_name, "type": known.label})
    if known.zip_member_prefix is not None and not _is_package(upload, known.zip_member_prefix):
        raise _refuse(_("“%(name)s” is not a %(type)s file: it is not a readable package of that type.")
                      % {"name": file_name, "type": known.label})


def _is_package(upload, member_prefix: str) -> bool:
    # Reads the ZIP's central directory only (at the end of the file), not its content.
    upload.seek(0)
    try:
        with zipfile.ZipFile(upload) as package:
            names = package.namelist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return False
    if member_prefix == "":
        return True
    return "[Content_Types].xml" in names and any(name.startswith(member_prefix) for name in names)


