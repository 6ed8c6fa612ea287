"""Dashboard panel of procurement: who the agency buys from and how they rate, the cryptography that
must go and when, and the contracts nearing their sunset. Four queries, whatever the numbers."""

import datetime

from django.db.models import Count, Min, Q
from django.utils.translation import gettext_lazy as _

from certification.tables import theme_colour
from procurement.choices import ReviewOutcomeChoices, SupplierStatusChoices
from procurement.models import Component, Contract, Supplier
from procurement.services import CONTRACT_DUE_HORIZON_DAYS
from procurement.tables import SUPPLIER_STATUS_COLOURS
from qgov.dashboard import Panel
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
