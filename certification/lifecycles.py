"""The lifecycles of certification records.

- A device is planned, goes into service, is withdrawn and is finally disposed of (with a reason).
- A device certification or a personnel accreditation is pending until confirmed valid; a valid
  one may be suspended (and reinstated), revoked, or expire (the daily task). Revoked and expired
  certificates are records and stay as they are.

Suspending, revoking or expiring a device certification flags the assets that depend on the device
at once: its owner, the owners of the dependent assets and the agency's admins are told, naming the
assets; the device's compliance, being computed, turns non-compliant in the same instant.
"""

from django.urls import NoReverseMatch
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from certification.choices import CertificationStatusChoices as CertState
from certification.choices import DeviceStatusChoices as DeviceState
from qgov.lifecycle import Lifecycle, Transition
from qgov.permissions import users_who_can
from qgov.roles import Action
from qgov.services import notify

# --- devices -------------------------------------------------------------------------------------

DEVICE_LIFECYCLE = Lifecycle(
    field="status",
    note_field="status_note",
    frozen_states=(DeviceState.DISPOSED,),
    deletable_states=(DeviceState.PLANNED,),
    transitions=[
        Transition("commission", gettext_lazy("Put into service"), source=(DeviceState.PLANNED,),
                   target=DeviceState.IN_SERVICE, style="success"),
        Transition("withdraw", gettext_lazy("Withdraw"), source=(DeviceState.PLANNED, DeviceState.IN_SERVICE),
                   target=DeviceState.WITHDRAWN, reason_required=True, style="outline-secondary",
                   help_text=gettext_lazy("A withdrawn device is no longer checked for compliance.")),
        Transition("return_to_service", gettext_lazy("Return to service"), source=(DeviceState.WITHDRAWN,),
                   target=DeviceState.IN_SERVICE, reason_required=True, style="outline-primary"),
        Transition("dispose", gettext_lazy("Dispose"), source=(DeviceState.WITHDRAWN,), target=DeviceState.DISPOSED,
                   reason_required=True, style="outline-danger",
                   help_text=gettext_lazy("Say how it was disposed of (e.g. key material zeroised, destroyed "
                                          "under witness); the record is then kept as it is.")),
    ],
)


# --- certificates --------------------------------------------------------------------------------

def _not_past_expiry(certificate, user):
    if certificate.expires is not None and certificate.expires < timezone.localdate():
        return [_("It expired on %(date)s; record the renewed certificate instead.") % {
            "date": certificate.expires.isoformat()}]
    return []


def _link(record) -> str:
    """The record's page, or "" where the UI does not route it (the API-only deployment)."""
    try:
        return record.get_absolute_url()
    except NoReverseMatch:
        return ""


def agency_admins(agency_id):
    """The agency's admins: the members whose role may manage members."""
    return users_who_can(agency_id, Action.MANAGE_MEMBERS)


def _active(users):
    seen, people = set(), []
    for user in users:
        if user is not None and user.is_active and user.pk not in seen:
            seen.add(user.pk)
            people.append(user)
    return people


def _flag_dependent_assets(certification, *, user, reason):
    """Tell the device's owner, the dependent assets' owners and the agency's admins what the
    device's certificate just lost, naming the assets."""
    from certification.selectors import dependent_assets

    device = certification.device
    assets = list(dependent_assets(device).select_related("owner"))
    state = certification.get_status_display().lower()
    title = _("%(device)s: certificate %(certificate)s %(state)s") % {
        "device": device.name, "certificate": certification.certificate_id, "state": state}
    if assets:
        body = _("Assets that depend on it: %(assets)s. %(reason)s") % {
            "assets": ", ".join(asset.name for asset in assets), "reason": reason}
    else:
        body = _("No asset is linked to this device. %(reason)s") % {"reason": reason}
    people = _active([device.owner if device.owner_id else None,
                      *(asset.owner for asset in assets if asset.owner_id),
                      *agency_admins(certification.agency_id)])
    notify(users=people, agency=certification.agency, title=title, body=body.strip(),
           url=_link(device))


def _tell_accreditation_change(accreditation, *, user, reason):
    person = accreditation.person
    state = accreditation.get_status_display().lower()
    title = _("%(person)s: %(scheme)s %(level)s %(state)s") % {
        "person": person.name, "scheme": accreditation.scheme.code, "level": accreditation.level, "state": state}
    people = _active([person.user if person.user_id else None, *agency_admins(accreditation.agency_id)])
    notify(users=people, agency=accreditation.agency, title=title, body=reason,
           url=_link(person))


def certificate_lifecycle(after_loss) -> Lifecycle:
    """The lifecycle shared by device certifications and personnel accreditations; `after_loss`
    runs after a suspension, revocation or expiry."""
    return Lifecycle(
        field="status",
        note_field="status_note",
        frozen_states=(CertState.REVOKED, CertState.EXPIRED),
        deletable_states=(CertState.PENDING,),
        transitions=[
            Transition("confirm", gettext_lazy("Confirm valid"), source=(CertState.PENDING,), target=CertState.VALID,
                       guards=(_not_past_expiry,), style="success",
                       help_text=gettext_lazy("The certificate has been checked against the issuer's register.")),
            Transition("suspend", gettext_lazy("Suspend"), source=(CertState.VALID,), target=CertState.SUSPENDED,
                       reason_required=True, after=after_loss, style="outline-warning"),
            Transition("reinstate", gettext_lazy("Reinstate"), source=(CertState.SUSPENDED,),
                       target=CertState.VALID, reason_required=True, guards=(_not_past_expiry,),
                       style="outline-success"),
            Transition("revoke", gettext_lazy("Revoke"),
                       source=(CertState.PENDING, CertState.VALID, CertState.SUSPENDED),
                       target=CertState.REVOKED, reason_required=True, after=after_loss, style="outline-danger",
                       help_text=gettext_lazy("A revoked certificate is kept as a record and no longer counts.")),
            Transition("expire", gettext_lazy("Expire"), source=(CertState.VALID, CertState.SUSPENDED),
                       target=CertState.EXPIRED, reason_required=True, after=after_loss, system=True),
        ],
    )


DEVICE_CERTIFICATION_LIFECYCLE = certificate_lifecycle(_flag_dependent_assets)
PERSONNEL_ACCREDITATION_LIFECYCLE = certificate_lifecycle(_tell_accreditation_change)
