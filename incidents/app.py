"""What incidents adds to qgov: its section, routes, panels, loaders and its action in the role table."""

from django.utils.translation import gettext_lazy as _

from incidents.choices import MANAGE_PLAYBOOKS
from qgov.choices import RoleChoices
from qgov.registry import AppAction, QgovApp

APP = QgovApp(
    label="incidents",
    nav_label=_("Incidents"),
    nav_order=40,
    nav=[],
    # Adapting a response plan is a policy decision: the agency's admins keep its playbooks; editors
    # run incidents with them.
    actions=[AppAction(MANAGE_PLAYBOOKS, _("Adapt the agency's incident playbooks"),
                       frozenset({RoleChoices.ADMIN}))],
)
