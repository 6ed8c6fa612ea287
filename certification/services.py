"""Certification workflows. Issuing, confirming, suspending, reinstating and revoking are lifecycle
transitions (certification/lifecycles.py, run by qgov.services.object_transition); this module holds
what the system does on its own: expiring certificates at their date."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from certification.choices import CertificationStatusChoices
from certification.models import DeviceCertification, PersonnelAccreditation
from qgov.services import object_transition

LIVE_STATES = (CertificationStatusChoices.VALID, CertificationStatusChoices.SUSPENDED)


def _expire(model, *, today) -> int:
    expired = 0
    due = model.objects.filter(status__in=LIVE_STATES, expires__lt=today).order_by("pk")
    for certificate in due:
        object_transition(instance=certificate, name="expire", system=True, reason=_(
            "Expired on %(date)s.") % {"date": certificate.expires.isoformat()})
        expired += 1
    return expired


@transaction.atomic
def certifications_expire(*, today=None) -> dict[str, int]:
    """Valid or suspended certifications and accreditations past their expiry become "expired",
    each with one audited transition that tells the people concerned (device certifications also
    flag their dependent assets). Idempotent: a second run finds nothing left to do."""
    today = today or timezone.localdate()
    return {"device_certifications": _expire(DeviceCertification, today=today),
            "personnel_accreditations": _expire(PersonnelAccreditation, today=today)}
