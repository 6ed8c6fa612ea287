"""PAdES signatures of report PDFs with the platform's report key (pyHanko).

The key and its certificate are PEM files named by settings (QGOV_REPORT_SIGNING_KEY,
QGOV_REPORT_SIGNING_CERT, optional QGOV_REPORT_SIGNING_KEY_PASSWORD). A report is never issued
unsigned: when the files are missing, signing raises `ReportSigningUnavailable`. `make run` creates
a self-signed development pair (`manage.py report_signing_keys`); production installs the agency's
own and the system check `qgov.E101` refuses to start a process whose files are missing or do not
belong together.

The signature is an incremental update (the PDF/A-3b file's bytes are kept as they are, a new
revision adds the signature field), with an invisible signature field that PDF readers list in their
signature panel. `check_signature` validates it against the configured certificate as the only trust
root and demands that it covers the whole file: any change after signing, even of one byte, is refused.
"""

import datetime as dt
import io
import os
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

SIGNATURE_FIELD = "QgovReportSignature"
DEVELOPMENT_COMMON_NAME = "qgov report signing (development)"


class ReportSigningUnavailable(ImproperlyConfigured):
    """The report key or certificate is missing or unusable: no report may be issued."""


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


# --- Key material -------------------------------------------------------------------------------


def key_paths() -> tuple[Path, Path]:
    return Path(settings.QGOV_REPORT_SIGNING_KEY), Path(settings.QGOV_REPORT_SIGNING_CERT)


def _password() -> bytes | None:
    password = getattr(settings, "QGOV_REPORT_SIGNING_KEY_PASSWORD", "")
    return password.encode() if password else None


def key_pair_problem() -> str:
    """Why the configured key pair cannot sign ("" when it can): missing, unreadable, or a key that
    is not the certificate's."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    key_path, cert_path = key_paths()
    missing = [f"{name} ({path})" for name, path in (("QGOV_REPORT_SIGNING_KEY", key_path),
                                                      ("QGOV_REPORT_SIGNING_CERT", cert_path)) if not path.is_file()]
    if missing:
        return (f"The report signing files are missing: {', '.join(missing)}. Install the platform's report key "
                f"and certificate there, or run `manage.py report_signing_keys` for a development pair.")
    try:
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=_password())
        certificate = x509.load_pem_x509_certificate(cert_path.read_bytes())
    except (ValueError, TypeError) as error:
        return f"The report signing key or certificate cannot be read: {error}"
    public = serialization.PublicFormat.SubjectPublicKeyInfo
    if key.public_key().public_bytes(serialization.Encoding.DER, public) != \
            certificate.public_key().public_bytes(serialization.Encoding.DER, public):
        return f"The report signing key {key_path} does not belong to the certificate {cert_path}."
    return ""


def ensure_development_key_pair() -> tuple[Path, Path, bool]:
    """Create a self-signed RSA key and certificate at the configured paths when either is missing
    (CN "qgov report signing (development)", valid ten years). Returns (key path, certificate path,
    whether they were created); existing files are left alone."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key_path, cert_path = key_paths()
    if key_path.is_file() and cert_path.is_file():
        return key_path, cert_path, False
    key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, DEVELOPMENT_COMMON_NAME),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "qgov")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=3653))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        # pyHanko (like Acrobat) wants a signer's certificate to allow non-repudiation.
        .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                     crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    password = _password()
    encryption = serialization.BestAvailableEncryption(password) if password else serialization.NoEncryption()
    for path in (key_path, cert_path):
        path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as key_file:
        key_file.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption))
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return key_path, cert_path, True


def _signer():
    from pyhanko.sign import signers

    problem = key_pair_problem()
    if problem:
        raise ReportSigningUnavailable(problem)
    key_path, cert_path = key_paths()
    return signers.SimpleSigner.load(str(key_path), str(cert_path), key_passphrase=_password())


def _trust_root():
    from pyhanko.keys import load_cert_from_pemder

    return load_cert_from_pemder(str(key_paths()[1]))


# --- Signing and checking -----------------------------------------------------------------------


def without_event_loop(function):
    """pyHanko's synchronous calls run an asyncio loop of their own (asyncio.run), which Python refuses
    in a thread that already runs one (an async server, or Playwright's sync API in the browser tests):
    there, the call is made in a thread of its own. Nothing it does touches the database."""
    import asyncio
    import functools

    @functools.wraps(function)
    def call(*args, **kwargs):
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return function(*args, **kwargs)
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=1) as pool:
            return pool.submit(function, *args, **kwargs).result()

    return call


@without_event_loop
def sign_pdf(data: bytes, *, run_id: int) -> bytes:
    """`data` signed (PAdES baseline B, SHA-256) in an incremental update, the signing time in the
    signature. Raises ReportSigningUnavailable when the key pair is missing: never unsigned."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers

    signer = _signer()
    writer = IncrementalPdfFileWriter(io.BytesIO(data), strict=False)
    metadata = signers.PdfSignatureMetadata(
        field_name=SIGNATURE_FIELD, md_algorithm="sha256", subfilter=fields.SigSeedSubFilter.PADES,
        reason=f"qgov report run #{run_id}", name=signer.subject_name)
    output = signers.PdfSigner(metadata, signer=signer,
                               new_field_spec=fields.SigFieldSpec(SIGNATURE_FIELD)).sign_pdf(writer)
    return output.getvalue()


def _name(certificate) -> str:
    return certificate.subject.native.get("common_name") or certificate.subject.human_friendly


@without_event_loop
def check_signature(data: bytes) -> SignatureCheck:
    """Whether `data` is a PDF signed with this platform's report certificate and unchanged since."""
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.diff_analysis import ModificationLevel
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.sign.validation.status import SignatureCoverageLevel
    from pyhanko_certvalidator import ValidationContext

    unsigned = {"signed": False, "intact": False, "trusted": False, "whole_file": False}
    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        signatures = reader.embedded_regular_signatures
    except Exception as error:  # a damaged file is a refusal, whatever the parser says
        return SignatureCheck(**unsigned, problem=f"The file cannot be read as a PDF ({type(error).__name__}).")
    if not signatures:
        return SignatureCheck(**unsigned, problem="The file carries no signature.")
    if len(signatures) > 1:
        return SignatureCheck(**{**unsigned, "signed": True},
                              problem="The file carries more than one signature; reports are signed once.")
    try:
        trust_root = _trust_root()
    except Exception as error:
        raise ReportSigningUnavailable(f"The report certificate cannot be read: {error}") from error
    embedded = signatures[0]
    try:
        status = validate_pdf_signature(embedded, ValidationContext(trust_roots=[trust_root], allow_fetching=False))
    except Exception as error:
        return SignatureCheck(**{**unsigned, "signed": True},
                              problem=f"The signature cannot be validated ({type(error).__name__}: {error}).")
    whole_file = (status.coverage == SignatureCoverageLevel.ENTIRE_FILE
                  and status.modification_level in (None, ModificationLevel.NONE))
    trusted = bool(status.trusted and status.valid and status.signing_cert.dump() == trust_root.dump())
    problems = []
    if not status.intact:
        problems.append("the signed content has been changed")
    elif not status.valid:
        problems.append("the signature does not match the signed content")
    if not trusted:
        problems.append("it was not signed with this platform's report certificate")
    if not whole_file:
        problems.append("the file was changed after it was signed")
    return SignatureCheck(signed=True, intact=bool(status.intact and status.valid), trusted=trusted,
                          whole_file=whole_file, signer=_name(status.signing_cert),
                          signed_at=status.signer_reported_dt,
                          problem=("Refused: " + "; ".join(problems) + ".") if problems else "")
