"""One filterset per certification model, shared by the UI lists, the API and internal queries."""

import django_filters
from django.utils.translation import gettext_lazy as _

from certification.choices import (
    CertificationStatusChoices,
    ComplianceChoices,
    DeviceKindChoices,
    DeviceStatusChoices,
    PersonnelRoleChoices,
    SchemeKindChoices,
    SchemeValidityRuleChoices,
)
from certification.models import (
    Device,
    DeviceCertification,
    Person,
    PersonnelAccreditation,
    Recognition,
    RecognitionArrangement,
    RequiredScheme,
    Scheme,
)
from qgov.filters import ExpiringWithinFilter, QgovFilterSet

EXPIRY_DAYS = 90  # "expires within 90 days", the default warning window

LIVE_CERTIFICATE = {"status__in": [CertificationStatusChoices.VALID, CertificationStatusChoices.SUSPENDED]}


class ComplianceFilter(django_filters.MultipleChoiceFilter):
    """Filters on the `compliance` annotation (certification.selectors); annotates the queryset
    first when the caller did not."""

    def __init__(self, annotate, **kwargs):
        kwargs.setdefault("choices", ComplianceChoices.choices)
        kwargs.setdefault("label", _("Compliance"))
        super().__init__(field_name="compliance", **kwargs)
        self.annotate = annotate

    def filter(self, qs, value):
        if not value:
            return qs
        if "compliance" not in qs.query.annotations:
            from certification.selectors import agency_of_request

            qs = self.annotate(qs, agency=agency_of_request(self.parent.request))
        return qs.filter(compliance__in=value)


def _devices_with_compliance(qs, *, agency):
    from certification.selectors import devices_with_compliance

    return devices_with_compliance(qs, agency=agency)


def _people_with_compliance(qs, *, agency):
    from certification.selectors import people_with_compliance

    return people_with_compliance(qs, agency=agency)


class ExpiresWithinDaysFilter(django_filters.NumberFilter):
    """`?expires_within=N`: live certificates whose expiry falls between today and N days from now."""

    def __init__(self, date_field="expires", **kwargs):
        kwargs.setdefault("label", _("Expires within (days)"))
        super().__init__(field_name=date_field, min_value=0, max_value=36600, **kwargs)

    def filter(self, qs, value):
        if value in (None, ""):
            return qs
        return qs.filter(ExpiringWithinFilter(self.field_name, int(value), when=LIVE_CERTIFICATE).condition())


class SchemeFilterSet(QgovFilterSet):
    search_fields = ("code", "name", "issuing_body", "description")
    kind = django_filters.MultipleChoiceFilter(choices=SchemeKindChoices.choices)
    validity_rule = django_filters.MultipleChoiceFilter(choices=SchemeValidityRuleChoices.choices)

    class Meta:
        model = Scheme
        fields = ["kind", "family", "code", "validity_rule"]


class RecognitionArrangementFilterSet(QgovFilterSet):
    search_fields = ("code", "name", "description")
    scheme = django_filters.ModelChoiceFilter(field_name="recognitions__scheme", queryset=Scheme.objects.all(),
                                              label=_("Recognises scheme"))

    class Meta:
        model = RecognitionArrangement
        fields = ["code"]


class RecognitionFilterSet(QgovFilterSet):
    search_fields = ("arrangement__code", "scheme__code", "conditions")
    arrangement = django_filters.ModelMultipleChoiceFilter(queryset=RecognitionArrangement.objects.all())
    scheme = django_filters.ModelMultipleChoiceFilter(queryset=Scheme.objects.all())

    class Meta:
        model = Recognition
        fields = ["arrangement", "scheme", "max_level"]


class DeviceFilterSet(QgovFilterSet):
    search_fields = ("name", "vendor", "model", "serial", "site", "firmware_version")
    kind = django_filters.MultipleChoiceFilter(choices=DeviceKindChoices.choices)
    status = django_filters.MultipleChoiceFilter(choices=DeviceStatusChoices.choices)
    scheme = django_filters.ModelChoiceFilter(field_name="certifications__scheme", queryset=Scheme.objects.all(),
                                              label=_("Certified under"))
    expiring = ExpiringWithinFilter("certifications__expires", EXPIRY_DAYS,
                                    label=_("A certificate expires within 90 days"),
                                    when={"certifications__status__in": LIVE_CERTIFICATE["status__in"]})
    compliance = ComplianceFilter(_devices_with_compliance)

    class Meta:
        model = Device
        fields = ["agency", "kind", "status", "vendor", "owner", "site"]


class DeviceCertificationFilterSet(QgovFilterSet):
    search_fields = ("certificate_id", "device__name", "device__serial", "evaluation_lab", "protection_profile")
    status = django_filters.MultipleChoiceFilter(choices=CertificationStatusChoices.choices)
    kind = django_filters.MultipleChoiceFilter(field_name="device__kind", choices=DeviceKindChoices.choices,
                                               label=_("Device kind"))
    scheme = django_filters.ModelMultipleChoiceFilter(queryset=Scheme.objects.filter(kind=SchemeKindChoices.DEVICE))
    device = django_filters.ModelChoiceFilter(queryset=Device.objects.all())
    expiring = ExpiringWithinFilter("expires", EXPIRY_DAYS, label=_("Expires within 90 days"),
                                    when=LIVE_CERTIFICATE)
    expires_within = ExpiresWithinDaysFilter()

    class Meta:
        model = DeviceCertification
        fields = ["agency", "device", "scheme", "status", "level", "interim"]


class PersonFilterSet(QgovFilterSet):
    search_fields = ("name", "email", "unit")
    role = django_filters.MultipleChoiceFilter(choices=PersonnelRoleChoices.choices)
    scheme = django_filters.ModelChoiceFilter(field_name="accreditations__scheme", queryset=Scheme.objects.all(),
                                              label=_("Accredited under"))
    expiring = ExpiringWithinFilter("accreditations__expires", EXPIRY_DAYS,
                                    label=_("An accreditation expires within 90 days"),
                                    when={"accreditations__status__in": LIVE_CERTIFICATE["status__in"]})
    compliance = ComplianceFilter(_people_with_compliance)

    class Meta:
        model = Person
        fields = ["agency", "role", "active", "user", "unit"]


class PersonnelAccreditationFilterSet(QgovFilterSet):
    search_fields = ("credential_id", "person__name", "level")
    status = django_filters.MultipleChoiceFilter(choices=CertificationStatusChoices.choices)
    kind = django_filters.MultipleChoiceFilter(field_name="person__role", choices=PersonnelRoleChoices.choices,
                                               label=_("Role"))
    scheme = django_filters.ModelMultipleChoiceFilter(
        queryset=Scheme.objects.filter(kind=SchemeKindChoices.PERSONNEL))
    person = django_filters.ModelChoiceFilter(queryset=Person.objects.all())
    expiring = ExpiringWithinFilter("expires", EXPIRY_DAYS, label=_("Expires within 90 days"), when=LIVE_CERTIFICATE)
    expires_within = ExpiresWithinDaysFilter()
    review_due_within = ExpiringWithinFilter("review_due", EXPIRY_DAYS, label=_("Review due within 90 days"),
                                             when=LIVE_CERTIFICATE)

    class Meta:
        model = PersonnelAccreditation
        fields = ["agency", "person", "scheme", "status", "level"]


class RequiredSchemeFilterSet(QgovFilterSet):
    search_fields = ("scheme__code", "scheme__name", "notes")
    device_kind = django_filters.MultipleChoiceFilter(choices=DeviceKindChoices.choices)
    personnel_role = django_filters.MultipleChoiceFilter(choices=PersonnelRoleChoices.choices)
    kind = django_filters.MultipleChoiceFilter(field_name="scheme__kind", choices=SchemeKindChoices.choices,
                                               label=_("Applies to"))
    scheme = django_filters.ModelMultipleChoiceFilter(queryset=Scheme.objects.all())

    class Meta:
        model = RequiredScheme
        fields = ["agency", "scheme", "device_kind", "personnel_role"]
