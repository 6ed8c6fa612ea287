"""File parsers: each turns an uploaded file into rows of cell values, one row at a time, so that
a large file never sits in memory whole. The first row is the header.

A new format (e.g. CycloneDX JSON) is one class with `format`, `extensions` and `rows()`, passed
to register_parser().
"""

import csv
import io
import zipfile
from collections.abc import Iterator
from pathlib import PurePath

from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _


class FileProblem(Exception):
    """The file as a whole cannot be read."""

    def __init__(self, message: str):
        self.message = message
        super().__init__(message)


class Parser:
    format: str = ""
    extensions: tuple[str, ...] = ()

    def rows(self, file) -> Iterator[list]:
        """Yield each row of `file` (a binary file object) as a list of cell values."""
        raise NotImplementedError

    def upload_problems(self, file, max_bytes: int) -> list[str]:
        """What refuses the file at upload, before a run is queued (a file that cannot be read at
        all is left to the run, which reports it)."""
        return []


class CsvParser(Parser):
    format = "csv"
    extensions = (".csv",)

    def rows(self, file):
        text = io.TextIOWrapper(file, encoding="utf-8-sig", newline="")  # decoded as it is read
        try:
            yield from csv.reader(text)
        except UnicodeDecodeError:
            raise FileProblem(_("CSV files must be UTF-8 encoded.")) from None
        except csv.Error as error:
            raise FileProblem(_("This CSV file cannot be read: %(error)s.") % {"error": error}) from None
        finally:
            text.detach()  # the caller closes the file


class XlsxParser(Parser):
    """The first worksheet, read in openpyxl's read-only (streaming) mode."""

    format = "xlsx"
    extensions = (".xlsx",)
    # A workbook is a zip of XML; XML compresses well, but not a thousandfold like a zip bomb.
    max_inflation = 10

    def upload_problems(self, file, max_bytes):
        try:
            with zipfile.ZipFile(file) as archive:
                # The declared sizes bound what zipfile will inflate (it stops there and checks the CRC).
                inflated = sum(item.file_size for item in archive.infolist())
        except (zipfile.BadZipFile, OSError, ValueError):
            return []
        finally:
            file.seek(0)
        if inflated > self.max_inflation * max_bytes:
            return [_("This workbook would unpack to %(size)s; an import may unpack to at most %(limit)s.") % {
                "size": filesizeformat(inflated), "limit": filesizeformat(self.max_inflation * max_bytes)}]
        return []

    def rows(self, file):
        from openpyxl import load_workbook

        try:
            workbook = load_workbook(file, read_only=True, data_only=True)
            sheet = workbook.worksheets[0]
        except (zipfile.BadZipFile, KeyError, OSError, ValueError, IndexError, TypeError) as error:
            raise FileProblem(_("This is not a readable XLSX workbook.")) from error
        try:
            for row in sheet.iter_rows(values_only=True):
                yield list(row)
        finally:
            workbook.close()


_PARSERS: dict[str, Parser] = {}


def register_parser(parser: Parser) -> Parser:
    _PARSERS[parser.format] = parser
    return parser


def parser_for(filename: str) -> Parser | None:
    suffix = PurePath(filename).suffix.lower()
    return next((parser for parser in _PARSERS.values() if suffix in parser.extensions), None)


def parser_named(format: str) -> Parser:
    return _PARSERS[format]


def supported_extensions() -> list[str]:
    return sorted(extension for parser in _PARSERS.values() for extension in parser.extensions)


register_parser(CsvParser())
register_parser(XlsxParser())
