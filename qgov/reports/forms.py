"""Forms of the reports pages: request a run, a schedule, and the file to verify. The parameters a
report takes are checked by the service (report_parameters_clean); its messages land on the field
the user typed them in."""

import datetime as dt
from zoneinfo import ZoneInfo

from django import forms
from django.core.exceptions import ValidationError
from django.http import QueryDict
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from qgov.forms import QgovModelForm, style_form
from qgov.reports.choices import PageSizeChoices, ReportKindChoices, ReportMarkingChoices
from qgov.reports.models import ReportSchedule
from qgov.reports.services import HORIZON_MONTHS, report_parameters_clean

VERIFY_MAX_BYTES = 200 * 1024 * 1024  # far above any report this platform writes
# Query-string names of a list page that are not filters (its page, sort order, file export).
NOT_FILTERS = ("page", "per_page", "sort", "export", "cursor")


def read_upload(upload) -> bytes:
    """The bytes of a file to verify, refused (400 / form error) when larger than any report."""
    if upload.size > VERIFY_MAX_BYTES:
        raise ValidationError({"file": [_("The file is %(size)s; a report is at most %(limit)s.") % {
            "size": filesizeformat(upload.size), "limit": filesizeformat(VERIFY_MAX_BYTES)}]})
    return b"".join(upload.chunks())


def filters_from_query(text: str) -> dict:
    """The register's filters from its page's query string (or the whole URL, pasted from the
    address bar): {name: value}, or {name: [values]} for a repeated name."""
    query = QueryDict(text.strip().split("?", 1)[-1] if "?" in text else text.strip().lstrip("?"))
    return {name: values if len(values) > 1 else values[0]
            for name, values in query.lists() if name not in NOT_FILTERS and any(values)}


def query_from_filters(filters: dict) -> str:
    query = QueryDict(mutable=True)
    for name, value in (filters or {}).items():
        query.setlist(name, [str(v) for v in value] if isinstance(value, list) else [str(value)])
    return query.urlencode()


class ReportParametersMixin(forms.Form):
    """The parameters of a report as form fields: a sunset review's horizon, a register's filters."""

    horizon_months = forms.IntegerField(
        label=_("Horizon (months)"), required=False, min_value=HORIZON_MONTHS[0], max_value=HORIZON_MONTHS[1],
        help_text=_("Sunset review only: how far ahead it looks (default 12)."))
    register_filters = forms.CharField(
        label=_("Register filters"), required=False, max_length=2000,
        help_text=_("Risk register only: the filters of the register page, as its address shows them "
                    "(e.g. status=open&q=HNDL); paste the address of the filtered register. Empty: every risk."))

    # Where the service's messages go: its keys are parameter names, the form's are these fields.
    error_fields = {"horizon_months": "horizon_months", "filters": "register_filters",
                    "parameters": "register_filters"}

    def report_parameters(self, kind) -> dict:
        data = self.cleaned_data
        if kind == ReportKindChoices.SUNSET_REVIEW and data.get("horizon_months") is not None:
            return {"horizon_months": data["horizon_months"]}
        if kind == ReportKindChoices.RISK_REGISTER and data.get("register_filters"):
            return {"filters": filters_from_query(data["register_filters"])}
        return {}

    def add_service_errors(self, error: ValidationError) -> None:
        for name, messages in error.message_dict.items():
            field = name if name in self.fields else self.error_fields.get(name)
            if field is None and self.cleaned_data.get("kind") == ReportKindChoices.RISK_REGISTER:
                field = "register_filters"  # a filter the register's section refused, by its name
                messages = [f"{name}: {message}" for message in messages]
            self.add_error(field if field in self.fields else None, messages)


class ReportRequestForm(ReportParametersMixin):
    kind = forms.ChoiceField(label=_("Report"), choices=ReportKindChoices.choices)
    as_of = forms.DateField(label=_("As of"), required=False, widget=forms.DateInput(attrs={"type": "date"}),
                            help_text=_("The date it counts overdue reviews and expiries from; empty: now. "
                                        "Not in the future."))
    marking = forms.ChoiceField(label=_("Handling marking"), choices=ReportMarkingChoices.choices,
                                initial=ReportMarkingChoices.OFFICIAL_SENSITIVE,
                                help_text=_("Printed on every page (a transparency summary is always TLP:CLEAR)."))
    page_size = forms.ChoiceField(label=_("Page size"), choices=PageSizeChoices.choices, initial=PageSizeChoices.A4)

    field_order = ["kind", "as_of", "horizon_months", "register_filters", "marking", "page_size"]

    def __init__(self, *args, agency=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.agency = agency
        style_form(self)

    def as_of_time(self):
        """The end of the chosen day in the agency's time zone (None, i.e. now, for today or no date);
        a day in the future is left to the service to refuse."""
        day = self.cleaned_data.get("as_of")
        zone = ZoneInfo(self.agency.time_zone) if self.agency is not None else timezone.get_current_timezone()
        if day is None or day == timezone.localtime(timezone=zone).date():
            return None
        return dt.datetime.combine(day, dt.time(23, 59, 59), tzinfo=zone)


class ReportScheduleForm(ReportParametersMixin, QgovModelForm):
    class Meta:
        model = ReportSchedule
        fields = ["kind", "frequency", "horizon_months", "register_filters", "marking", "page_size", "enabled",
                  "next_run_at"]
        widgets = {"next_run_at": forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk is None:
            self.initial.setdefault("next_run_at", timezone.localtime().replace(second=0, microsecond=0))
        else:
            parameters = self.instance.parameters or {}
            self.initial.setdefault("horizon_months", parameters.get("horizon_months"))
            self.initial.setdefault("register_filters", query_from_filters(parameters.get("filters")))

    def clean(self):
        cleaned = super().clean()
        kind = cleaned.get("kind")
        if kind and not self.errors:
            agency = self.agency if self.instance.pk is None else self.instance.agency
            try:
                cleaned["parameters"] = report_parameters_clean(kind=kind, parameters=self.report_parameters(kind),
                                                                agency=agency)
            except ValidationError as error:
                self.add_service_errors(error)
        return cleaned

    def service_data(self) -> dict:
        data = super().service_data()
        for name in ("horizon_months", "register_filters"):
            data.pop(name, None)
        return {**data, "parameters": self.cleaned_data.get("parameters", {})}


class ReportVerifyForm(forms.Form):
    file = forms.FileField(label=_("Report file"),
                           help_text=_("A PDF, CSV, JSON or OSCAL file this platform issued."))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        style_form(self)

    def clean_file(self):
        upload = self.cleaned_data["file"]
        try:
            self.content = read_upload(upload)
        except ValidationError as error:
            raise forms.ValidationError(error.message_dict["file"]) from None
        return upload
