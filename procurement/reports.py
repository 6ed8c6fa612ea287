"""Procurement's section of the reports ("Suppliers and components"), one builder per kind.

Suppliers are shown with their latest submitted due-diligence review (the rating the review service
sets) and when the next is due; quantum-vulnerable cryptography is counted from the components'
stored classification and policy deadline, which `procurement.services.component_classify` sets on
every save from the agency's policy (`crypto_policy_of`), so nothing here classifies anything again.
Contracts due are those of `contracts_due` (the contracts due list). Every read costs a fixed number
of queries, whatever the number of suppliers, components and contracts.
"""

import datetime as dt

from django.db.models import Count, Exists, OuterRef, Q, Subquery
from django.db.models.functions import ExtractYear
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from procurement.choices import ContractStatusChoices, ReviewOutcomeChoices, ReviewStatusChoices, SupplierStatusChoices
from procurement.models import LIVE_CONTRACT, Component, Contract, DueDiligenceAnswer, DueDiligenceReview, Supplier
from procurement.panels import FLAGGED_OUTCOMES
from procurement.selectors import vulnerable_counts
from procurement.services import contracts_due, crypto_policy_of, policy_rule_for
from qgov.reports.choices import ReportKindChoices
from qgov.reports.document import Column, Figure, ReportContext, ReportTable, SectionData
from qgov.reports.reads import evidence_references, person_label
from qgov.reports.sections import ReportSection

SECTION_KEY = "procurement"
SECTION_TITLE = gettext_lazy("Suppliers and components")
REVIEW_DUE_SOON_DAYS = 90  # a supplier's next review within this many days is "due soon"
# Contracts whose sunset terms still bind: a live one, or one being re-evaluated.
SUNSET_STATES = (*LIVE_CONTRACT, ContractStatusChoices.UNDER_REEVALUATION)

# Where a supplier's due diligence stands on the as-of day, in the order the report lists them.
REVIEW_BANDS = {
    "overdue": gettext_lazy("Review overdue"),
    "due_soon": gettext_lazy("Review due within 90 days"),
    "current": gettext_lazy("Reviewed, next review later"),
    "never": gettext_lazy("Not yet reviewed"),
    "exited": gettext_lazy("Exited, no longer reviewed"),
}


def _review_band(supplier, day: dt.date) -> str:
    if supplier.status == SupplierStatusChoices.EXITED:
        return "exited"
    if not supplier.reviewed:
        return "never"
    if supplier.next_due is not None and supplier.next_due < day:
        return "overdue"
    if supplier.next_due is not None and supplier.next_due <= day + dt.timedelta(days=REVIEW_DUE_SOON_DAYS):
        return "due_soon"
    return "current"


def _suppliers(context: ReportContext) -> list[Supplier]:
    """The agency's suppliers by name, each with `reviewed` (a submitted review is current) and
    `next_due` (when that review says the next is due), and its band: one query."""
    current = DueDiligenceReview.objects.filter(supplier=OuterRef("pk"), status=ReviewStatusChoices.SUBMITTED)
    suppliers = list(Supplier.objects.filter(agency=context.agency).annotate(
        reviewed=Exists(current),
        next_due=Subquery(current.order_by("-submitted_at", "-pk").values("next_review_due")[:1]),
    ).select_related("owner").order_by("name", "pk"))
    for supplier in suppliers:
        supplier.review_band = _review_band(supplier, context.as_of_date)
    return suppliers


def _counted(values, choices, key: str) -> list[dict]:
    """[{key: label, "count": n}] for every choice in order (zeros included)."""
    counts = {}
    for value in values:
        counts[value] = counts.get(value, 0) + 1
    return [{key: str(label), "count": counts.get(value, 0)} for value, label in choices]


def _band_table(suppliers) -> ReportTable:
    return ReportTable(key="review_bands", title=_("Suppliers by due-diligence review"),
                       columns=[Column("band", _("Review")), Column("count", _("Suppliers"), "number")],
                       rows=_counted((s.review_band for s in suppliers), REVIEW_BANDS.items(), "band"))


def _status_table(suppliers) -> ReportTable:
    return ReportTable(key="suppliers_by_status", title=_("Suppliers by status"),
                       columns=[Column("status", _("Status")), Column("count", _("Suppliers"), "number")],
                       rows=_counted((s.status for s in suppliers), SupplierStatusChoices.choices, "status"))


def _component_counts(context: ReportContext) -> dict:
    day = context.as_of_date
    vulnerable = Q(quantum_vulnerable=True)
    return Component.objects.filter(agency=context.agency).aggregate(
        total=Count("pk"), vulnerable=Count("pk", filter=vulnerable),
        past=Count("pk", filter=vulnerable & Q(policy_deadline__lt=day)))


def _policy_name(policy) -> str:
    return policy.name if policy is not None else _("none loaded")


# --- the builders ---------------------------------------------------------------------------------

def compliance_section(context: ReportContext) -> SectionData:
    """Supplier due diligence (status, last review, outcome, next due), quantum-vulnerable
    cryptography per supplier, and the evidence files of the current reviews."""
    agency, day = context.agency, context.as_of_date
    suppliers = _suppliers(context)
    components = _component_counts(context)
    crypto = vulnerable_counts(user=None, by="supplier", agency=agency)
    policy = crypto_policy_of(agency.pk)
    flagged = [s for s in suppliers
               if s.rating_outcome in FLAGGED_OUTCOMES and s.status != SupplierStatusChoices.EXITED]
    bands = {band: sum(1 for s in suppliers if s.review_band == band) for band in REVIEW_BANDS}
    figures = [
        Figure("suppliers_count", _("Suppliers"), len(suppliers)),
        Figure("review_overdue_count", _("Suppliers whose review is overdue"), bands["overdue"]),
        Figure("review_due_soon_count", _("Suppliers due for review within %(days)s days") % {
            "days": REVIEW_DUE_SOON_DAYS}, bands["due_soon"]),
        Figure("review_never_count", _("Suppliers not yet reviewed"), bands["never"]),
        Figure("flagged_count", _("Suppliers rated escalate or reject"), len(flagged),
               note=_("Exited suppliers left out.")),
        Figure("components_count", _("Components"), components["total"]),
        Figure("components_vulnerable_count", _("Quantum-vulnerable components"), components["vulnerable"]),
        Figure("components_past_deadline_count", _("… past their policy deadline"), components["past"]),
        Figure("crypto_policy", _("Migration policy"), _policy_name(policy)),
    ]
    outcome_rows = _counted((s.rating_outcome or "" for s in suppliers),
                            [*ReviewOutcomeChoices.choices, ("", _("Not rated"))], "outcome")
    supplier_rows = [{
        "supplier": s.name, "status": s.get_status_display(), "criticality": s.get_criticality_display(),
        "last_review": s.rated_on, "score": s.rating_score, "outcome": s.get_rating_outcome_display() or None,
        "next_due": s.next_due, "review": str(REVIEW_BANDS[s.review_band]), "owner": person_label(s.owner),
    } for s in suppliers]
    names = {s.pk: s.name for s in suppliers}
    crypto_rows = sorted(({"supplier": names[pk], "components_count": counts["components"],
                           "vulnerable_count": counts["vulnerable"], "earliest_deadline": counts["earliest_deadline"]}
                          for pk, counts in crypto.items() if pk in names),
                         key=lambda row: (-row["vulnerable_count"], row["earliest_deadline"] or dt.date.max,
                                          row["supplier"]))
    tables = [
        _status_table(suppliers),
        ReportTable(key="suppliers_by_outcome", title=_("Suppliers by the outcome of their latest review"),
                    columns=[Column("outcome", _("Outcome")), Column("count", _("Suppliers"), "number")],
                    rows=outcome_rows),
        _band_table(suppliers),
        ReportTable(key="suppliers", title=_("Supplier due diligence"), columns=[
            Column("supplier", _("Supplier")), Column("status", _("Status")), Column("criticality", _("Criticality")),
            Column("last_review", _("Last review"), "date"), Column("score", _("Score"), "number"),
            Column("outcome", _("Outcome")), Column("next_due", _("Next review due"), "date"),
            Column("review", _("Review")), Column("owner", _("Owner"))],
            rows=supplier_rows, note=_("The latest submitted review of each supplier."),
            empty_text=_("No suppliers are recorded.")),
        ReportTable(key="quantum_vulnerable_by_supplier", title=_("Quantum-vulnerable cryptography per supplier"),
                    columns=[Column("supplier", _("Supplier")), Column("components_count", _("Components"), "number"),
                             Column("vulnerable_count", _("Quantum-vulnerable"), "number"),
                             Column("earliest_deadline", _("Earliest deadline"), "date")],
                    rows=crypto_rows, note=_("Suppliers with components, most quantum-vulnerable first; deadlines "
                                             "under %(policy)s.") % {"policy": _policy_name(policy)},
                    empty_text=_("No components are recorded against a supplier.")),
    ]

    def submitted(review) -> str:
        return (review.submitted_at.astimezone(context.zone).date().isoformat() if review.submitted_at else "")

    evidence = evidence_references(context=context, sources=[
        (DueDiligenceReview.objects.filter(agency=agency, status=ReviewStatusChoices.SUBMITTED)
         .select_related("supplier", "questionnaire"),
         lambda r: _("%(supplier)s — %(questionnaire)s review submitted %(date)s") % {
             "supplier": r.supplier.name, "questionnaire": r.questionnaire.code, "date": submitted(r)}),
        (DueDiligenceAnswer.objects.filter(agency=agency, review__status=ReviewStatusChoices.SUBMITTED)
         .select_related("review__supplier", "review__questionnaire"),
         lambda a: _("%(supplier)s — %(questionnaire)s review submitted %(date)s, %(question)s") % {
             "supplier": a.review.supplier.name, "questionnaire": a.review.questionnaire.code,
             "date": submitted(a.review), "question": a.question}),
    ])
    return SectionData(key=SECTION_KEY, title=str(SECTION_TITLE), intro=_(
        "Who the agency buys from and how each supplier's due diligence stands on %(day)s, and the cryptography in "
        "their components that a quantum computer would break, dated by the agency's migration policy "
        "(%(policy)s).") % {"day": day.isoformat(), "policy": _policy_name(policy)},
        figures=figures, tables=tables, evidence=evidence)


def sunset_review_section(context: ReportContext) -> SectionData:
    """Contracts reaching their sunset, re-evaluation or end, and quantum-vulnerable components
    reaching their policy deadline, by the window's end (those already past included), with owner
    and due date."""
    agency, day, end = context.agency, context.as_of_date, context.window_end
    due = contracts_due(Contract.objects.filter(agency=agency).select_related("supplier", "owner"),
                        within_days=(end - day).days, today=day)
    contract_rows = sorted(({
        "contract": contract.reference, "title": contract.title, "supplier": contract.supplier.name,
        "status": contract.get_status_display(), "due": item.label, "due_date": item.due_on,
        "days_left": item.days_left, "owner": person_label(contract.owner), "_name": item.name,
    } for contract, items in due for item in items), key=lambda row: (row["due_date"], row["contract"], row["_name"]))
    policy = crypto_policy_of(agency.pk)
    components = (Component.objects.filter(agency=agency, quantum_vulnerable=True, policy_deadline__lte=end)
                  .select_related("supplier__owner", "asset", "device").order_by("policy_deadline", "name", "pk"))
    component_rows = []
    for component in components:
        _policy, rule = policy_rule_for(component, policy=policy)
        supplier = component.supplier
        component_rows.append({
            "component": str(component), "supplier": supplier.name if supplier else None,
            "algorithm": " ".join(part for part in (component.algorithm, component.parameter_set_identifier) if part),
            "device": component.device.name if component.device else None,
            "rule": rule.get("label", "") if rule else "", "due_date": component.policy_deadline,
            "days_left": (component.policy_deadline - day).days,
            "owner": person_label(supplier.owner) if supplier else None})
    figures = [
        Figure("contracts_due_count", _("Contracts with a date due"), len(due)),
        Figure("contract_dates_overdue_count", _("Contract dates already past"),
               sum(1 for row in contract_rows if row["days_left"] < 0)),
        Figure("components_due_count", _("Quantum-vulnerable components due"), len(component_rows)),
        Figure("components_overdue_count", _("… already past their deadline"),
               sum(1 for row in component_rows if row["days_left"] < 0)),
        Figure("crypto_policy", _("Migration policy"), _policy_name(policy)),
    ]
    contract_columns = [
        Column("contract", _("Contract")), Column("title", _("Title")), Column("supplier", _("Supplier")),
        Column("status", _("Status")), Column("due", _("What")), Column("due_date", _("Due"), "date"),
        Column("days_left", _("Days left"), "number"), Column("owner", _("Owner"))]
    tables = [
        ReportTable(key="contracts_due", title=_("Contracts reaching sunset, re-evaluation or end"),
                    columns=contract_columns, rows=[{k: v for k, v in row.items() if k != "_name"}
                                                    for row in contract_rows],
                    note=_("Open dates only: a sunset while the contract is live or under re-evaluation, a "
                           "re-evaluation while it is live, an end until it has ended. Past dates are negative.")),
        ReportTable(key="components_due", title=_("Quantum-vulnerable cryptography reaching its policy deadline"),
                    columns=[Column("component", _("Component")), Column("supplier", _("Supplier")),
                             Column("algorithm", _("Algorithm")), Column("device", _("Device")),
                             Column("rule", _("Policy rule")), Column("due_date", _("Deadline"), "date"),
                             Column("days_left", _("Days left"), "number"), Column("owner", _("Owner"))],
                    rows=component_rows, note=_("Deadlines under %(policy)s; owner: the supplier's owner.") % {
                        "policy": _policy_name(policy)}),
    ]
    return SectionData(key=SECTION_KEY, title=str(SECTION_TITLE), intro=_(
        "Contracts and quantum-vulnerable cryptography with a date due by %(end)s (from %(start)s, and any already "
        "past).") % {"start": day.isoformat(), "end": end.isoformat()}, figures=figures, tables=tables)


def transparency_section(context: ReportContext) -> SectionData:
    """Counts only, no supplier names or details: suppliers by review band and status, components
    by quantum vulnerability and deadline year, contracts with sunset terms."""
    agency = context.agency
    suppliers = _suppliers(context)
    in_business = [s for s in suppliers if s.status != SupplierStatusChoices.EXITED]
    components = _component_counts(context)
    contracts = Contract.objects.filter(agency=agency, status__in=SUNSET_STATES).aggregate(
        total=Count("pk"), sunset=Count("pk", filter=Q(sunset_date__isnull=False)))
    by_year = (Component.objects.filter(agency=agency, quantum_vulnerable=True, policy_deadline__isnull=False)
               .annotate(year=ExtractYear("policy_deadline")).order_by("year").values_list("year")
               .annotate(n=Count("pk")))
    figures = [
        Figure("suppliers_count", _("Suppliers (not exited)"), len(in_business)),
        Figure("suppliers_reviewed_count", _("… with a completed due-diligence review"),
               sum(1 for s in in_business if s.reviewed)),
        Figure("components_count", _("Components"), components["total"]),
        Figure("components_vulnerable_count", _("Quantum-vulnerable components"), components["vulnerable"]),
        Figure("contracts_count", _("Contracts in force"), contracts["total"]),
        Figure("contracts_sunset_count", _("… with sunset terms"), contracts["sunset"]),
    ]
    tables = [
        _band_table(suppliers),
        _status_table(suppliers),
        ReportTable(key="components_by_category", title=_("Components by quantum vulnerability"),
                    columns=[Column("category", _("Category")), Column("count", _("Components"), "number")],
                    rows=[{"category": _("Quantum-vulnerable"), "count": components["vulnerable"]},
                          {"category": _("Not quantum-vulnerable"),
                           "count": components["total"] - components["vulnerable"]}]),
        ReportTable(key="vulnerable_by_deadline_year", title=_("Quantum-vulnerable components by deadline year"),
                    columns=[Column("year", _("Deadline year")), Column("count", _("Components"), "number")],
                    rows=[{"year": year, "count": count} for year, count in by_year]),
    ]
    return SectionData(key=SECTION_KEY, title=str(SECTION_TITLE), intro=_(
        "How the agency checks its quantum supply chain and how much of its cryptography must still be migrated, "
        "as of %(day)s.") % {"day": context.as_of_date.isoformat()}, figures=figures, tables=tables)


PROCUREMENT_SECTION = ReportSection(
    key=SECTION_KEY, title=SECTION_TITLE, order=30,
    builders={ReportKindChoices.COMPLIANCE: compliance_section,
              ReportKindChoices.SUNSET_REVIEW: sunset_review_section,
              ReportKindChoices.TRANSPARENCY: transparency_section})
