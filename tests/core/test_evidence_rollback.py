"""Evidence files leave no file behind: a failed write, a rolled-back outer transaction or
savepoint (cleared when the request or task ends), while a committed upload keeps its file. In
real transactions, on SQLite and PostgreSQL."""

import pytest
from django.db import DatabaseError, transaction

from qgov.choices import RoleChoices
from qgov.evidence import services
from qgov.files import discard_rolled_back_files
from qgov.models import CustodyEvent, EvidenceFile
from tests.core.test_evidence import stored_files, upload
from tests.risks.factories import RiskFactory


@pytest.fixture
def media_root(settings, tmp_path):
    # Files an earlier test stored inside its own rolled-back test transaction are still in this
    # process's ledger until something discards them: discarded here, so these tests see only theirs.
    discard_rolled_back_files()
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.mark.django_db(transaction=True)
def test_a_failed_database_write_leaves_no_file(monkeypatch, media_root):
    risk, editor = _committed_risk_and_editor()

    def fail(*args, **kwargs):
        raise DatabaseError("disk full")

    monkeypatch.setattr(CustodyEvent, "save", fail)
    with pytest.raises(DatabaseError):
        services.evidence_attach(record=risk, upload=upload(), user=editor)
    assert stored_files(media_root) == []
    assert EvidenceFile.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_outer_transaction_leaves_no_file(media_root):
    risk, editor = _committed_risk_and_editor()
    with pytest.raises(RuntimeError), transaction.atomic():
        services.evidence_attach(record=risk, upload=upload(), user=editor)
        assert len(stored_files(media_root)) == 1  # written, waiting for the commit
        raise RuntimeError("the caller's next step failed")
    assert EvidenceFile.objects.count() == 0
    assert discard_rolled_back_files() != []  # what the end of the request or task runs
    assert stored_files(media_root) == []


@pytest.mark.django_db(transaction=True)
def test_the_end_of_a_request_removes_a_rolled_back_file(client, media_root):
    risk, editor = _committed_risk_and_editor()
    with pytest.raises(RuntimeError), transaction.atomic():
        services.evidence_attach(record=risk, upload=upload(), user=editor)
        raise RuntimeError
    assert len(stored_files(media_root)) == 1
    client.get("/login/")  # request_finished
    assert stored_files(media_root) == []


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_savepoint_inside_a_committed_transaction_leaves_no_file(media_root):
    risk, editor = _committed_risk_and_editor()
    with transaction.atomic():
        kept = services.evidence_attach(record=risk, upload=upload("kept.pdf"), user=editor)
        with pytest.raises(RuntimeError), transaction.atomic():
            services.evidence_attach(record=risk, upload=upload("dropped.pdf"), user=editor)
            raise RuntimeError
    discard_rolled_back_files()
    assert [path.name for path in stored_files(media_root)] == [kept.file.name]
    assert list(EvidenceFile.objects.values_list("file_name", flat=True)) == ["kept.pdf"]


@pytest.mark.django_db(transaction=True)
def test_a_committed_upload_keeps_its_file(media_root):
    risk, editor = _committed_risk_and_editor()
    with transaction.atomic():
        evidence = services.evidence_attach(record=risk, upload=upload(), user=editor)
    assert discard_rolled_back_files() == []
    assert [path.name for path in stored_files(media_root)] == [evidence.file.name]
    assert services.evidence_verify(evidence=evidence, user=editor) is True


def _committed_risk_and_editor():
    from tests.factories import AgencyFactory, MembershipFactory, UserFactory

    with transaction.atomic():  # a risk takes the next reference under a row lock
        agency = AgencyFactory(code="TX")
        editor = MembershipFactory(agency=agency, role=RoleChoices.EDITOR, user=UserFactory(username="erin")).user
        return RiskFactory(agency=agency), editor
