"""Incident workflows: create (with the checklist copied from the playbook), the severity alert,
completing a checklist step, copying a playbook template into an agency, and follow-up risks.

Every write goes through the core services (qgov.services) or saves audited models inside their
transaction; `incidents.clocks.notifications_sync` is called whenever what the regulator clocks
count from changes."""

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from incidents import clocks
from incidents.choices import ALERT_SEVERITIES, MANAGE_PLAYBOOKS
from incidents.models import Incident, IncidentStep, Playbook, PlaybookStep
from qgov.permissions import require, users_who_can
from qgov.roles import Action
from qgov.services import notify, object_create, object_update

# What the regulator clocks count from: a change of one of these re-syncs them ("regimes" is the
# clocks' own relation, added with their models).
CLOCK_FIELDS = ("detected_at", "classified_at", "regimes")


# --- incidents -----------------------------------------------------------------------------------

def incident_create(*, user, data: dict) -> Incident:
    """Create an incident (the UI form and the API do the same through the core create service,
    which calls `Incident.after_create`, i.e. `incident_created`)."""
    return object_create(model=Incident, user=user, data=data)


def incident_created(incident: Incident, *, user) -> None:
    """After the create, in its transaction: the checklist, the severity alert, the clocks."""
    checklist_instantiate(incident)
    if incident.severity in ALERT_SEVERITIES:
        severity_alert(incident, user=user)
    clocks.notifications_sync(incident)


def incident_updated(incident: Incident, *, user, before: dict) -> None:
    """After an update, in its transaction: a playbook set later gets its checklist (once); severity
    raised to 1 or 2 alerts; the clocks follow a changed awareness or classification time."""
    if incident.playbook_id and not before.get("playbook_id"):
        checklist_instantiate(incident)
    was = before.get("severity")
    if incident.severity in ALERT_SEVERITIES and (was not in ALERT_SEVERITIES or incident.severity < was):
        severity_alert(incident, user=user)
    from qgov.audit import snapshot

    after = snapshot(incident)
    if any(before.get(name) != after.get(name) for name in CLOCK_FIELDS if name in after):
        clocks.notifications_sync(incident)


def checklist_instantiate(incident: Incident) -> list[IncidentStep]:
    """Copy the playbook's steps into the incident's checklist, once: an incident that already has a
    checklist keeps it (a running response is not rewritten by a playbook edit or swap)."""
    if incident.playbook_id is None or incident.steps.exists():
        return []
    created = []
    for step in PlaybookStep.objects.filter(playbook_id=incident.playbook_id).order_by("position"):
        row = IncidentStep(incident=incident, step=step, position=step.position, phase=step.phase,
                           csf_category=step.csf_category, instruction=step.instruction,
                           mandatory=step.mandatory, role=step.role)
        row.full_clean()
        row.save()  # audited, in the incident's change
        created.append(row)
    return created


def severity_alert(incident: Incident, *, user) -> None:
    """Tell the agency's admins (the members who may manage it) at once."""
    admins = users_who_can(incident.agency_id, Action.MANAGE_MEMBERS)
    notify(users=list(admins), agency=incident.agency,
           title=_("Severity %(severity)s incident %(ref)s: %(title)s") % {
               "severity": incident.severity, "ref": incident.reference, "title": incident.title},
           body=_("%(type)s, marked %(marking)s, reported by %(who)s.") % {
               "type": incident.get_incident_type_display(), "marking": incident.marking,
               "who": incident.reporter_name or (user.get_username() if user else _("the system"))},
           url=settings.QGOV_SITE_URL.rstrip("/") + incident.get_absolute_url())


@transaction.atomic
def incident_step_complete(*, incident: Incident, step_id, user, note: str = "") -> IncidentStep:
    """Mark one step of the incident's checklist done, recording who and when. A step of another
    incident is not found (nothing changes); a closed incident or a step already done is refused."""
    locked = Incident.objects.restrict(user, Action.VIEW).select_for_update(of=("self",)).filter(
        pk=incident.pk).first()
    if locked is None:
        raise PermissionDenied(_("You do not have permission to do this."))
    require(user, locked.agency_id, Action.CHANGE, Incident)
    step = IncidentStep.objects.select_for_update().filter(incident=locked, pk=step_id).first()
    if step is None:
        raise IncidentStep.DoesNotExist(_("This incident has no such step."))
    errors = {}
    if locked.lifecycle.is_frozen(locked):
        errors["non_field_errors"] = [locked.lifecycle.frozen_message(locked)]
    elif step.completed_at is not None:
        errors["non_field_errors"] = [_("Step %(position)s was already completed.") % {"position": step.position}]
    if errors:
        raise ValidationError(errors)
    step.completed_at = timezone.now()
    step.completed_by = user
    step.note = (note or "").strip()
    step.full_clean()
    step.save()
    clocks.timeline_record(incident=locked, kind="step", user=user, text=_("Step %(position)s done: %(what)s") % {
        "position": step.position, "what": step.instruction[:200]} + (f" — {step.note}" if step.note else ""))
    return step


# --- follow-up risks -----------------------------------------------------------------------------

@transaction.atomic
def follow_up_risks_link(*, incident: Incident, risks, user) -> Incident:
    """Add `risks` to the incident's follow-up risks (keeping those linked): one audited update,
    which refuses another agency's risk and a closed incident before anything is written."""
    Incident.objects.select_for_update().filter(pk=incident.pk).first()
    linked = list(incident.follow_up_risks.only("pk", "agency_id"))
    known = {risk.pk for risk in linked}
    added = [risk for risk in risks if risk.pk not in known]
    if not added:
        return incident
    return object_update(instance=incident, user=user, data={"follow_up_risks": [*linked, *added]})


@transaction.atomic
def follow_up_risk_raise(*, incident: Incident, user, data: dict):
    """Create a register risk (`data` as the register's form or API gives it) and link it as a
    follow-up of the incident; both or neither."""
    from risks.models import Risk

    risk = object_create(model=Risk, user=user, data=data)
    follow_up_risks_link(incident=incident, risks=[risk], user=user)
    return risk


def follow_up_risk_initial(incident: Incident) -> dict:
    """The register form's values for a risk raised from the incident."""
    return {
        "title": _("Follow-up of %(ref)s: %(title)s") % {"ref": incident.reference, "title": incident.title},
        "description": "\n\n".join(part for part in (
            _("Raised from incident %(ref)s (%(type)s, severity %(severity)s).") % {
                "ref": incident.reference, "type": incident.get_incident_type_display(),
                "severity": incident.severity},
            incident.root_cause and _("Root cause: %(cause)s") % {"cause": incident.root_cause},
            incident.lessons and _("Lessons: %(lessons)s") % {"lessons": incident.lessons}) if part),
        "assets": list(incident.assets.values_list("pk", flat=True)),
    }


# --- playbooks -----------------------------------------------------------------------------------

@transaction.atomic
def playbook_copy(*, template: Playbook, agency, user) -> Playbook:
    """The agency's own copy of a platform template, steps included, recording the template version
    it came from (so its page can say when the template has moved on)."""
    require(user, agency.pk, MANAGE_PLAYBOOKS, Playbook)
    if not template.is_template:
        raise ValidationError({"source": [_("Only platform templates are copied.")]})
    if Playbook.objects.filter(agency=agency, code=template.code).exists():
        raise ValidationError({"code": [_("The agency already has a playbook %(code)s.") % {"code": template.code}]})
    copy = object_create(model=Playbook, user=user, data={
        "agency": agency, "code": template.code, "title": template.title, "incident_type": template.incident_type,
        "description": template.description, "citations": list(template.citations), "source": template,
        "source_version": template.version})
    for step in template.steps.order_by("position"):
        object_create(model=PlaybookStep, user=user, data={
            "playbook": copy, "position": step.position, "phase": step.phase, "csf_category": step.csf_category,
            "instruction": step.instruction, "mandatory": step.mandatory, "role": step.role})
    return copy
