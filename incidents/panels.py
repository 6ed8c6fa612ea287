"""What incidents shows on other apps' detail pages: the incidents a device, asset, risk or supplier
is linked to (qgov.detail_panels)."""

from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from incidents.choices import MARKING_COLOURS
from incidents.models import Incident
from qgov.detail_panels import DetailPanel
from qgov.permissions import user_can
from qgov.roles import Action

INCIDENTS_SHOWN = 10  # the newest; the filtered list has them all


def incidents_of(relation: str, filter_name: str):
    """The context of the panel listing the incidents linked to a record through `relation`: two
    queries (the page and the count), whatever the numbers."""

    def context(request, record):
        user = request.user
        if not user_can(user, record.owning_agency_id, Action.VIEW, Incident):
            return None
        linked = Incident.objects.restrict(user, Action.VIEW).filter(**{relation: record})
        shown = list(linked.only("pk", "reference", "title", "status", "severity", "marking")
                     .order_by("-detected_at", "-pk")[:INCIDENTS_SHOWN])
        total = len(shown) if len(shown) < INCIDENTS_SHOWN else linked.count()
        for incident in shown:
            incident.marking_colour = MARKING_COLOURS.get(incident.marking, "secondary")
        return {"shown": shown, "more": total - len(shown), "total": total,
                "list_url": f"{reverse('incidents:incident_list')}?{urlencode({filter_name: record.pk})}"}

    return context


TEMPLATE = "incidents/panels/incidents_of.html"
DEVICE_INCIDENTS = DetailPanel(model="certification.Device", title=_("Incidents"), template=TEMPLATE,
                               context=incidents_of("devices", "device"), order=60)
ASSET_INCIDENTS = DetailPanel(model="risks.Asset", title=_("Incidents"), template=TEMPLATE,
                              context=incidents_of("assets", "asset"), order=60)
RISK_INCIDENTS = DetailPanel(model="risks.Risk", title=_("Incidents"), template=TEMPLATE,
                             context=incidents_of("risks", "risk"), order=60)
SUPPLIER_INCIDENTS = DetailPanel(model="procurement.Supplier", title=_("Incidents"), template=TEMPLATE,
                                 context=incidents_of("suppliers", "supplier"), order=60)
