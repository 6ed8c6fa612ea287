"""Imports: a model opts in by declaring its columns once, in its app's imports.py:

    register(ImportSpec(Risk, key="reference", columns=[Text("title", required=True), ...]))

Uploads become ImportRuns, run in the background (qgov.imports.tasks) through the same write
services as a form or the API; see qgov.imports.services.
"""

from qgov.imports.columns import Boolean, Choice, Column, Date, Decimal, Integer, Member, Related, Text
from qgov.imports.parsers import Parser, register_parser
from qgov.imports.spec import ImportSpec, importable_models, register, spec_for

__all__ = ["Boolean", "Choice", "Column", "Date", "Decimal", "ImportSpec", "Integer", "Member", "Parser", "Related",
           "Text", "importable_models", "register", "register_parser", "spec_for"]
