"""What the register's report builders share: the agency's open risks, bands, people's names."""

from django.utils.text import slugify
from django.utils.translation import gettext as _

from qgov.reports.document import Column
from risks.choices import RiskAcceptanceStatusChoices, RiskStatusChoices
from risks.models import Risk

# An acceptance that still covers its risk (approved, or awaiting re-approval after a re-rating).
ACTIVE_ACCEPTANCE_STATES = (RiskAcceptanceStatusChoices.APPROVED, RiskAcceptanceStatusChoices.REAPPROVAL_REQUIRED)
EXPIRY_WARNING_DAYS = 90  # "expiring" in the compliance report: within this many days of the as-of day


def open_risks(agency):
    return Risk.objects.filter(agency=agency).exclude(status=RiskStatusChoices.CLOSED)


def person(first_name, last_name, username) -> str:
    """A person as reports name them: the full name, or the username when none is given."""
    full = f"{first_name or ''} {last_name or ''}".strip()
    return full or username or ""


def person_fields(prefix: str) -> tuple[str, str, str]:
    """The value lookups `person()` reads, through `prefix` ("owner", "risk__owner")."""
    return (f"{prefix}__first_name", f"{prefix}__last_name", f"{prefix}__username")


def person_of(row: dict, prefix: str) -> str:
    return person(*(row[name] for name in person_fields(prefix)))


def band_name(matrix, score) -> str | None:
    band = matrix.band_for(score) if matrix is not None else None
    return band["name"] if band else None


def band_key(name: str) -> str:
    """A band's name as part of a figure key ("Critical" → "critical")."""
    return slugify(name).replace("-", "_") or "band"


def rating_columns() -> list[Column]:
    return [Column("inherent_score", _("Inherent"), "number"), Column("inherent_band", _("Inherent band"), "band"),
            Column("current_score", _("Current"), "number"), Column("current_band", _("Current band"), "band"),
            Column("residual_score", _("Residual"), "number"), Column("residual_band", _("Residual band"), "band")]


def rating_values(row: dict, matrix) -> dict:
    """The three scores and their bands of a risk row (values of inherent_score, rating_score,
    rating and residual_score); the current band is the stored rating, as the register shows it."""
    return {"inherent_score": row["inherent_score"], "inherent_band": band_name(matrix, row["inherent_score"]),
            "current_score": row["rating_score"], "current_band": row["rating"] or None,
            "residual_score": row["residual_score"], "residual_band": band_name(matrix, row["residual_score"])}


RATING_FIELDS = ("inherent_score", "rating_score", "rating", "residual_score")
