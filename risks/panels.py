"""Dashboard panels of the risk register."""

from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from qgov.dashboard import Panel
from qgov.permissions import user_can
from qgov.roles import Action
from risks.choices import RiskStatusChoices
from risks.lifecycles import AWAITING_DECISION
from risks.models import Risk, RiskAcceptance
from risks.selectors import exposed_assets, matrix_of


def _exposure(request, agency):
    matrix = matrix_of(agency)
    if matrix is None:
        return {}
    return {"matrix": matrix, "assets": [(a, a.exposure(matrix)) for a in exposed_assets(agency, matrix)]}


def _register(request, agency):
    matrix = matrix_of(agency)
    today = timezone.localdate()
    open_risks = Risk.objects.filter(agency=agency).exclude(status=RiskStatusChoices.CLOSED)
    by_rating = dict(open_risks.values_list("rating").annotate(n=Count("pk")))
    bands = [(band, by_rating.get(band["name"], 0)) for band in reversed(matrix.bands)] if matrix else []
    return {
        "bands": bands,
        "open_count": open_risks.count(),
        "overdue": open_risks.filter(review_date__lt=today).count(),
        # Acceptances running out are listed with every other due date on the core's due-soon page.
    }


def _awaiting_approval(request, agency):
    if not user_can(request.user, agency.pk, Action.APPROVE, RiskAcceptance):
        return None
    waiting = (RiskAcceptance.objects.filter(agency=agency, status__in=AWAITING_DECISION)
               .exclude(requested_by=request.user).select_related("risk", "requested_by").order_by("valid_until"))
    return {"acceptances": list(waiting[:10]), "count": waiting.count()}


APPROVALS_PANEL = Panel(title=_("Awaiting your approval"), template="risks/panels/approvals.html",
                        context=_awaiting_approval, order=5)
EXPOSURE_PANEL = Panel(title=_("Quantum-exposed assets (Mosca)"), template="risks/panels/exposure.html",
                       context=_exposure, order=10)
REGISTER_PANEL = Panel(title=_("Risk register"), template="risks/panels/register.html", context=_register, order=20)
