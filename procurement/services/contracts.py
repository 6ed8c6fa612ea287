"""Contracts: renewal, re-evaluation and the due list."""

import datetime
from dataclasses import dataclass

from django.db.models import Case, DateField, F, Q, When
from django.utils import timezone
from django.utils.translation import gettext as _


def contract_renewal_problems(contract, *, today: datetime.date | None = None) -> list[str]:
    """Why a contract may not be renewed yet: a renewal with its sunset or end date already behind
    it would be renewed into the past (and at once overdue), so the new dates are edited in first."""
    today = today or timezone.localdate()
    problems = []
    if contract.sunset_date and contract.sunset_date < today:
        problems.append(_("The sunset date (%(date)s) has passed: edit the contract to set the new sunset date, "
                          "then renew.") % {"date": contract.sunset_date.isoformat()})
    if contract.end and contract.end < today:
        problems.append(_("The end date (%(date)s) has passed: edit the contract to set the new end date, "
                          "then renew.") % {"date": contract.end.isoformat()})
    return problems


def contract_next_reevaluation(contract, *, today: datetime.date | None = None) -> datetime.date | None:
    """The first re-evaluation date after `today` on the contract's cycle: from the date that was
    due (or the start), on by whole intervals, so the cycle keeps its anchor. Without an interval,
    a date still ahead stays and one that has passed is cleared (the renewal was the re-evaluation)."""
    from procurement.models import add_months

    today = today or timezone.localdate()
    anchor = contract.next_reevaluation or contract.start
    if not contract.reevaluation_months:
        return contract.next_reevaluation if contract.next_reevaluation and contract.next_reevaluation > today \
            else None
    step = 1
    # Counted from the anchor each time (not month on month), so 31 January stays the 31st when it can.
    while (moved := add_months(anchor, step * contract.reevaluation_months)) <= today:
        step += 1
    return moved


def contract_renew_apply(contract, *, today: datetime.date | None = None) -> None:
    """The renew transition's effect: the next re-evaluation moves on by the interval."""
    contract.next_reevaluation = contract_next_reevaluation(contract, today=today)


@dataclass(frozen=True)
class ContractDue:
    """One of a contract's due dates, as the contract page and the contracts due list show it."""

    name: str  # the DueDate's name: "sunset", "reevaluation", "end"
    label: str
    due_on: datetime.date
    days_left: int  # negative when overdue

    @property
    def overdue(self) -> bool:
        return self.days_left < 0

    @property
    def days_overdue(self) -> int:
        return max(-self.days_left, 0)


CONTRACT_DUE_HORIZON_DAYS = 180  # the due list's and the dashboard panel's default horizon


def contract_due_annotations(horizon: datetime.date | None = None) -> dict:
    """One annotation per contract due date declared on the model (sunset, re-evaluation, end): the
    date while the contract's state keeps it open (and, with `horizon`, on or before it), else
    NULL. One query then lists every contract with something due, whatever the number of rows."""
    from procurement.models import Contract

    annotations = {}
    for due in Contract.due_dates:
        condition = Q(**{f"{due.field}__isnull": False})
        if due.open_condition() is not None:
            condition &= due.open_condition()
        if horizon is not None:
            condition &= Q(**{f"{due.field}__lte": horizon})
        annotations[f"due_{due.key}"] = Case(When(condition, then=F(due.field)), default=None,
                                              output_field=DateField())
    return annotations


def contract_dues(contract, *, today: datetime.date) -> list[ContractDue]:
    """The contract's open due dates, soonest first; read from `contract_due_annotations` when the
    contract was loaded with them, else from its fields and state."""
    from procurement.models import Contract

    dues = []
    for due in Contract.due_dates:
        key = f"due_{due.key}"
        if hasattr(contract, key):
            value = getattr(contract, key)
        else:
            value = getattr(contract, due.field) if contract_due_is_open(contract, due) else None
        if value is not None:
            dues.append(ContractDue(due.key, str(due.label), value, (value - today).days))
    return sorted(dues, key=lambda item: (item.due_on, item.name))


def contract_due_is_open(contract, due) -> bool:
    """Whether the contract's state keeps `due` open; the declarations' `open` are status filters."""
    from procurement.models import Contract

    condition = due.open_condition()
    return condition is None or Contract._base_manager.filter(pk=contract.pk).filter(condition).exists()


def contracts_due(queryset, *, within_days: int = CONTRACT_DUE_HORIZON_DAYS, today: datetime.date | None = None):
    """(contract, its open due dates within the horizon) of the contracts in `queryset` with a
    sunset, re-evaluation or end on or before today + `within_days` (overdue ones included), soonest
    first: one query."""
    today = today or timezone.localdate()
    annotations = contract_due_annotations(today + datetime.timedelta(days=within_days))
    any_due = Q()
    for key in annotations:
        any_due |= Q(**{f"{key}__isnull": False})
    rows = [(contract, contract_dues(contract, today=today))
            for contract in queryset.annotate(**annotations).filter(any_due)]
    return sorted(rows, key=lambda row: (row[1][0].due_on, row[0].reference))
