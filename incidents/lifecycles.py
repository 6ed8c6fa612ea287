"""The incident lifecycle: reported -> triage -> contained -> eradicated -> recovered -> closed, and
reopen (closed -> triage) with a reason.

Leaving a phase needs its mandatory checklist steps done (the guard lists what is still open):
leaving triage needs the detect & analyse steps, leaving "contained" the contain steps, leaving
"eradicated" or "recovered" the eradicate & recover steps; closing also needs the forensics and
post-incident review steps, the review's summary, root cause and lessons, and at least one follow-up
risk in the register.
"""

from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from incidents.choices import IncidentStatusChoices as State
from incidents.choices import PhaseChoices as Phase
from qgov.lifecycle import Lifecycle, Transition

# The phases whose mandatory steps must be done to leave each state.
PHASES_TO_LEAVE = {
    State.TRIAGE: (Phase.DETECT,),
    State.CONTAINED: (Phase.CONTAIN,),
    State.ERADICATED: (Phase.RECOVER,),
    State.RECOVERED: (Phase.RECOVER, Phase.FORENSICS, Phase.REVIEW),
}

# The review fields closing needs, in the order they are named.
REVIEW_FIELDS = ("review_summary", "root_cause", "lessons")


def open_mandatory_steps(incident, phases) -> list[str]:
    """"Step 3 (Contain): <instruction>" for each mandatory step of `phases` not yet done, in order."""
    labels = dict(Phase.choices)
    steps = incident.steps.filter(phase__in=phases, mandatory=True, completed_at__isnull=True).order_by("position")
    return [_("Step %(position)s (%(phase)s): %(instruction)s") % {
        "position": step.position, "phase": labels[step.phase], "instruction": step.instruction}
        for step in steps]


def _steps_done(state):
    def guard(incident, user):
        return open_mandatory_steps(incident, PHASES_TO_LEAVE[state])

    guard.__name__ = f"{state}_steps_done"
    return guard


def review_missing(incident) -> list[str]:
    """What the post-incident review still lacks before the incident may close."""
    missing = [_("%(field)s is empty.") % {"field": capfirst(incident._meta.get_field(name).verbose_name)}
               for name in REVIEW_FIELDS if not (getattr(incident, name) or "").strip()]
    if incident.pk is None or not incident.follow_up_risks.exists():
        missing.append(_("No follow-up risk is linked: link a register risk or raise one."))
    return missing


def _review_complete(incident, user):
    return review_missing(incident)


def _record_closure(incident, *, user, reason):
    incident.closed_at = timezone.now()


def _clear_closure(incident, *, user, reason):
    incident.closed_at = None


def _on_the_timeline(incident, transition, *, user, reason):
    from incidents.clocks import transition_timeline

    transition_timeline(incident, label=str(transition.label), user=user, reason=reason)


INCIDENT_LIFECYCLE = Lifecycle(
    field="status",
    note_field="status_note",
    owned_fields=("closed_at",),
    frozen_states=(State.CLOSED,),
    deletable_states=(State.REPORTED,),
    transitions=[
        Transition("triage", gettext_lazy("Start triage"), source=(State.REPORTED,), target=State.TRIAGE),
        Transition("contain", gettext_lazy("Mark contained"), source=(State.TRIAGE,), target=State.CONTAINED,
                   guards=(_steps_done(State.TRIAGE),),
                   help_text=gettext_lazy("Needs the mandatory detect & analyse steps done.")),
        Transition("eradicate", gettext_lazy("Mark eradicated"), source=(State.CONTAINED,), target=State.ERADICATED,
                   guards=(_steps_done(State.CONTAINED),),
                   help_text=gettext_lazy("Needs the mandatory contain steps done.")),
        Transition("recover", gettext_lazy("Mark recovered"), source=(State.ERADICATED,), target=State.RECOVERED,
                   guards=(_steps_done(State.ERADICATED),),
                   help_text=gettext_lazy("Needs the mandatory eradicate & recover steps done.")),
        Transition("close", gettext_lazy("Close"), source=(State.RECOVERED,), target=State.CLOSED, style="success",
                   guards=(_steps_done(State.RECOVERED), _review_complete), effect=_record_closure,
                   help_text=gettext_lazy("Needs the remaining mandatory steps done, the post-incident review "
                                          "(summary, root cause, lessons) filled in and a follow-up risk linked.")),
        Transition("reopen", gettext_lazy("Reopen"), source=(State.CLOSED,), target=State.TRIAGE,
                   reason_required=True, style="outline-danger", effect=_clear_closure),
    ],
    after_each=_on_the_timeline,  # every status change is also a timeline entry
)
