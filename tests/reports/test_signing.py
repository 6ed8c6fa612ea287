"""Report PDFs are signed (PAdES) with the platform's report key; the check accepts exactly the
signed file and refuses any change to it."""

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.test import override_settings
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext
from pypdf import PdfReader

from qgov.reports import checks
from qgov.reports.pdf import Attachment, render_pdf
from qgov.reports.signing import (
    DEVELOPMENT_COMMON_NAME,
    SIGNATURE_FIELD,
    ReportSigningUnavailable,
    check_signature,
    ensure_development_key_pair,
    sign_pdf,
    without_event_loop,
)
from tests.reports.documents import pdfa_identification, small_document


@pytest.fixture(scope="module")
def unsigned():
    return render_pdf(small_document(run_id=31), attachments=[
        Attachment("report-31.csv", b"report,risk_register\n", "text/csv")]).data


@pytest.fixture(scope="module")
def signed(unsigned):
    return sign_pdf(unsigned, run_id=31)


def test_the_signed_file_is_the_unsigned_one_plus_an_incremental_update(unsigned, signed):
    assert signed[:len(unsigned)] == unsigned
    assert len(signed) > len(unsigned)


def test_the_signature_validates_with_pyhanko_against_the_report_certificate(signed, report_signing_key_pair):
    from pyhanko.keys import load_cert_from_pemder

    root = load_cert_from_pemder(str(report_signing_key_pair[1]))
    (embedded,) = PdfFileReader(io.BytesIO(signed)).embedded_regular_signatures
    # In a thread of its own when a loop runs here (the browser tests'), as the product does.
    status = without_event_loop(validate_pdf_signature)(embedded, ValidationContext(trust_roots=[root]))

    assert (status.intact, status.valid, status.trusted) == (True, True, True)
    assert status.coverage == SignatureCoverageLevel.ENTIRE_FILE
    assert embedded.field_name == SIGNATURE_FIELD
    assert embedded.sig_object["/Reason"] == "qgov report run #31"
    assert embedded.sig_object["/SubFilter"] == "/ETSI.CAdES.detached"


def test_the_signature_field_is_in_the_form_readers_show(signed):
    fields = PdfReader(io.BytesIO(signed)).get_fields()

    assert fields[SIGNATURE_FIELD]["/FT"] == "/Sig"
    assert fields[SIGNATURE_FIELD]["/V"]["/Reason"] == "qgov report run #31"


def test_check_signature_accepts_the_signed_file(signed):
    check = check_signature(signed)

    assert check.valid, check.problem
    assert (check.signed, check.intact, check.trusted, check.whole_file) == (True, True, True, True)
    assert check.signer == DEVELOPMENT_COMMON_NAME
    assert check.problem == ""
    assert abs(check.signed_at - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=5)


def test_signing_keeps_the_pdfa_identification_and_the_attachment(signed):
    reader = PdfReader(io.BytesIO(signed))

    assert pdfa_identification(reader) == ("3", "B")
    assert reader.attachments == {"report-31.csv": [b"report,risk_register\n"]}


@pytest.mark.parametrize("where", ["start", "first quarter", "middle", "signature contents", "last quarter", "end"])
def test_a_one_byte_change_anywhere_is_refused(signed, where):
    contents = signed.index(b"/Contents <") + len(b"/Contents <") + 40  # inside the signature's hex
    position = {"start": 10, "first quarter": len(signed) // 4, "middle": len(signed) // 2,
                "signature contents": contents, "last quarter": 3 * len(signed) // 4, "end": len(signed) - 3}[where]
    changed = bytearray(signed)
    changed[position] = (changed[position] + 1) % 256

    check = check_signature(bytes(changed))

    assert not check.valid
    assert check.problem.startswith(("Refused:", "The file", "The signature"))


def test_bytes_appended_after_signing_are_refused(signed):
    check = check_signature(signed + b"%% appended\n")

    assert (check.valid, check.whole_file) == (False, False)


def test_an_unsigned_pdf_is_refused(unsigned):
    assert check_signature(unsigned) == check_signature(unsigned)  # deterministic
    check = check_signature(unsigned)
    assert (check.signed, check.valid, check.problem) == (False, False, "The file carries no signature.")


def test_a_file_that_is_not_a_pdf_is_refused():
    check = check_signature(b"not a pdf at all")

    assert (check.signed, check.valid) == (False, False)
    assert check.problem.startswith("The file cannot be read as a PDF")


def test_a_pdf_signed_with_another_key_is_not_trusted(unsigned, signed, tmp_path):
    with override_settings(QGOV_REPORT_SIGNING_KEY=tmp_path / "other.key", QGOV_REPORT_SIGNING_CERT=tmp_path / "o.pem"):
        ensure_development_key_pair()
        foreign = sign_pdf(unsigned, run_id=31)
    check = check_signature(foreign)

    assert (check.signed, check.intact, check.trusted, check.valid) == (True, True, False, False)
    assert "not signed with this platform's report certificate" in check.problem


def test_signing_without_the_key_files_fails_clearly(unsigned, tmp_path):
    with override_settings(QGOV_REPORT_SIGNING_KEY=tmp_path / "missing.key",
                           QGOV_REPORT_SIGNING_CERT=tmp_path / "missing.pem"), \
            pytest.raises(ReportSigningUnavailable, match="The report signing files are missing"):
        sign_pdf(unsigned, run_id=31)


def test_the_system_check_refuses_missing_or_mismatched_files_with_debug_off(tmp_path, report_signing_key_pair):
    missing = {"QGOV_REPORT_SIGNING_KEY": tmp_path / "k", "QGOV_REPORT_SIGNING_CERT": tmp_path / "c"}
    with override_settings(DEBUG=False, **missing):
        (error,) = checks.report_signing_key_pair()
        assert error.id == "qgov.E101"
        assert "missing" in error.msg
    with override_settings(DEBUG=False, QGOV_REPORT_SIGNING_KEY=tmp_path / "k2",
                           QGOV_REPORT_SIGNING_CERT=tmp_path / "c2"):
        ensure_development_key_pair()
    with override_settings(DEBUG=False, QGOV_REPORT_SIGNING_KEY=tmp_path / "k2",
                           QGOV_REPORT_SIGNING_CERT=report_signing_key_pair[1]):
        (error,) = checks.report_signing_key_pair()
        assert error.id == "qgov.E101"
        assert "does not belong to the certificate" in error.msg
    with override_settings(DEBUG=False):
        assert checks.report_signing_key_pair() == []
    with override_settings(DEBUG=True, **missing):
        assert checks.report_signing_key_pair() == []


def test_the_command_creates_a_pair_once(tmp_path, capsys):
    key_path, cert_path = tmp_path / "dev" / "key.pem", tmp_path / "dev" / "certificate.pem"
    with override_settings(QGOV_REPORT_SIGNING_KEY=key_path, QGOV_REPORT_SIGNING_CERT=cert_path):
        call_command("report_signing_keys")
        first = key_path.read_bytes()
        call_command("report_signing_keys")
    out = capsys.readouterr().out

    assert out.splitlines() == [
        f"Created a self-signed development report signing key {key_path} and certificate {cert_path}.",
        f"Report signing key {key_path} and certificate {cert_path} already exist; left as they are."]
    assert key_path.read_bytes() == first
    assert oct(key_path.stat().st_mode & 0o777) == "0o600"
    from cryptography import x509

    certificate = x509.load_pem_x509_certificate(cert_path.read_bytes())
    assert certificate.subject.rfc4514_string() == f"O=qgov,CN={DEVELOPMENT_COMMON_NAME}"
    assert (certificate.not_valid_after_utc - certificate.not_valid_before_utc).days == 3653
