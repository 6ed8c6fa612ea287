"""Procurement's panels. On the dashboard: who the agency buys from and how they rate, the
cryptography that must go and when, and the contracts nearing their sunset (four queries, whatever
the numbers). On a certification device's, a register asset's and a register risk's page: the
components linked to it, how many are quantum-vulnerable and the nearest policy deadline (two
queries, whatever the numbers; qgov.detail_panels)."""

import datetime
from urllib.parse import urlencode

from django.db.models import Count, F, Min, Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from certification.tables import theme_colour
from procurement.choices import ReviewOutcomeChoices, SupplierStatusChoices
from procurement.models import Component, Contract, Supplier
from procurement.selectors import vulnerable_counts
from procurement.services import CONTRACT_DUE_HORIZON_DAYS
from procurement.tables import SUPPLIER_STATUS_COLOURS
from qgov.dashboard import Panel
from qgov.detail_panels import DetailPanel
from qgov.duedates.selectors import agency_today
from qgov.permissions import user_can
from qgov.roles import Action

# Outcomes of a supplier's latest submitted review that need someone's attention (an exited
# supplier's no longer does).
FLAGGED_OUTCOMES = (ReviewOutcomeChoices.ESCALATE, ReviewOutcomeChoices.REJECT)
FLAGGED = Q(rating_outcome__in=FLAGGED_OUTCOMES) & ~Q(status=SupplierStatusChoices.EXITED)
FLAGGED_NAMES_SHOWN = 5


def _procurement(request, agency):
    user = request.user
    if not user_can(user, agency.pk, Action.VIEW, Supplier):
        return None
    suppliers = Supplier.objects.restrict(user, Action.VIEW).in_agency(agency)
    counts = suppliers.aggregate(
        **{value: Count("pk", filter=Q(status=value)) for value in SupplierStatusChoices.values},
        flagged=Count("pk", filter=FLAGGED))
    flagged = list(suppliers.filter(FLAGGED).order_by("name")
                   .only("pk", "name", "rating_outcome", "rating_score")[:FLAGGED_NAMES_SHOWN])
    crypto = Component.objects.restrict(user, Action.VIEW).in_agency(agency).aggregate(
        vulnerable=Count("pk", filter=Q(quantum_vulnerable=True)),
        nearest=Min("policy_deadline", filter=Q(quantum_vulnerable=True)))
    today = agency_today(agency)
    sunset = next(due for due in Contract.due_dates if due.key == "sunset")
    contracts = Contract.objects.restrict(user, Action.VIEW).in_agency(agency).filter(sunset.open_condition()).filter(
        sunset_date__lte=today + datetime.timedelta(days=CONTRACT_DUE_HORIZON_DAYS)).aggregate(
        count=Count("pk"), overdue=Count("pk", filter=Q(sunset_date__lt=today)), nearest=Min("sunset_date"))
    return {
        "statuses": [(value, label, counts[value], theme_colour(SUPPLIER_STATUS_COLOURS[value]))
                     for value, label in SupplierStatusChoices.choices],
        "flagged_count": counts["flagged"],
        "flagged": flagged,
        "vulnerable": crypto["vulnerable"],
        "nearest_deadline": crypto["nearest"],
        "sunset_count": contracts["count"],
        "sunset_overdue": contracts["overdue"],
        "nearest_sunset": contracts["nearest"],
        "horizon": CONTRACT_DUE_HORIZON_DAYS,
    }


PROCUREMENT_PANEL = Panel(title=_("Procurement"), template="procurement/panels/procurement.html",
                          context=_procurement, order=40)


# --- on other apps' detail pages ------------------------------------------------------------------

COMPONENTS_SHOWN = 10  # the list names this many, most urgent first; the component list has them all


def components_of(by: str, relation: str):
    """The context of the panel listing the components linked to a record through `relation`
    ("device", "asset", "risks"), counted by vulnerable_counts(by=`by`)."""

    def context(request, record):
        user = request.user
        if not user_can(user, record.owning_agency_id, Action.VIEW, Component):
            return None
        counts = vulnerable_counts(user=user, by=by, ids=[record.pk]).get(record.pk)
        counts = counts or {"components": 0, "vulnerable": 0, "earliest_deadline": None}
        shown = []
        if counts["components"]:
            shown = list(Component.objects.restrict(user, Action.VIEW).filter(**{relation: record})
                         .select_related("supplier")
                         .only("pk", "name", "component_version", "algorithm", "quantum_vulnerable",
                               "policy_deadline", "supplier__id", "supplier__name")
                         .order_by("-quantum_vulnerable", F("policy_deadline").asc(nulls_last=True), "name", "pk")
                         [:COMPONENTS_SHOWN])
        list_url = reverse("procurement:component_list")
        return {
            **counts,
            "shown": shown,
            "more": max(counts["components"] - len(shown), 0),
            "list_url": f"{list_url}?{urlencode({by: record.pk})}",
            "vulnerable_url": f"{list_url}?{urlencode({by: record.pk, 'quantum_vulnerable': 'true'})}",
        }

    return context


COMPONENTS_TEMPLATE = "procurement/panels/components_of.html"
DEVICE_COMPONENTS = DetailPanel(model="certification.Device", title=_("Components"), template=COMPONENTS_TEMPLATE,
                                context=components_of("device", "device"), order=50)
ASSET_COMPONENTS = DetailPanel(model="risks.Asset", title=_("Components"), template=COMPONENTS_TEMPLATE,
                               context=components_of("asset", "asset"), order=50)
RISK_COMPONENTS = DetailPanel(model="risks.Risk", title=_("Components that raise this risk"),
                              template=COMPONENTS_TEMPLATE, context=components_of("risk", "risks"), order=50)
