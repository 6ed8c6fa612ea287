"""PAdES signatures of report PDFs with the platform's report key (pyHanko). Being written."""

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class SignatureCheck:
    signed: bool  # a signature field with a signature was found
    intact: bool  # the signed bytes hash to what was signed
    trusted: bool  # signed by this platform's report certificate
    whole_file: bool  # the signature covers the whole file (nothing appended after it)
    signer: str = ""
    signed_at: dt.datetime | None = None
    problem: str = ""  # why the file is not a valid signed report, for people

    @property
    def valid(self) -> bool:
        return self.signed and self.intact and self.trusted and self.whole_file


def sign_pdf(data: bytes, *, run_id: int) -> bytes:
    raise NotImplementedError


def check_signature(data: bytes) -> SignatureCheck:
    raise NotImplementedError
