from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _
from django.views.generic import TemplateView

from certification import filters, forms, selectors, tables
from certification.choices import (
    COMPLIANCE_COLOURS,
    CertificationStatusChoices,
    ComplianceChoices,
    ComplianceReasonChoices,
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
from certification.tables import theme_colour
from qgov.permissions import user_can
from qgov.roles import Action
from qgov.views.generic import (
    ObjectDeleteView,
    ObjectDetailView,
    ObjectEditView,
    ObjectHistoryView,
    ObjectListView,
    ScopedViewMixin,
)
from risks.models import Risk

# A certificate in one of these states no longer counts: the device's dependent assets were flagged.
LOST_STATES = (CertificationStatusChoices.SUSPENDED, CertificationStatusChoices.REVOKED,
               CertificationStatusChoices.EXPIRED)


class ComplianceListMixin:
    """Rows carry the `compliance` annotation, computed in the database for the active agency."""

    with_compliance = None  # staticmethod: (queryset, *, agency) -> annotated queryset

    def get_queryset(self):
        return self.with_compliance(super().get_queryset(), agency=self.request.agency)


def compliance_context(findings):
    """What a device or person page shows of its compliance: the overall badge and every finding."""
    status = selectors.compliance_of(findings)
    return {
        "compliance": ComplianceChoices(status).label,
        "compliance_colour": theme_colour(COMPLIANCE_COLOURS.get(status)),
        "findings": [(finding, theme_colour(COMPLIANCE_COLOURS.get(finding.status)),
                      ComplianceReasonChoices(finding.reason_code).label if finding.reason_code else _("Met"))
                     for finding in findings],
    }


def lost_certificates(certificates):
    """The certificates in `certificates` that were suspended, revoked or expired and not since
    replaced by a valid one under the same scheme: what the dependent assets are flagged for."""
    renewed = {c.scheme_id for c in certificates if c.status == CertificationStatusChoices.VALID}
    return [c for c in certificates if c.status in LOST_STATES and c.scheme_id not in renewed]


# --- catalog: schemes and recognition arrangements ---------------------------------------------

class SchemeListView(ObjectListView):
    queryset = Scheme.objects.all()
    filterset_class = filters.SchemeFilterSet
    table_class = tables.SchemeTable


class SchemeDetailView(ObjectDetailView):
    queryset = Scheme.objects.prefetch_related("recognitions__arrangement")
    template_name = "certification/scheme_detail.html"
    exclude_fields = ("citations", "levels", "unverified")


class SchemeEditView(ObjectEditView):
    queryset = Scheme.objects.all()
    form_class = forms.SchemeForm


class SchemeDeleteView(ObjectDeleteView):
    queryset = Scheme.objects.all()


class SchemeHistoryView(ObjectHistoryView):
    queryset = Scheme.objects.all()


class RecognitionArrangementListView(ObjectListView):
    queryset = RecognitionArrangement.objects.all()
    filterset_class = filters.RecognitionArrangementFilterSet
    table_class = tables.RecognitionArrangementTable


class RecognitionArrangementDetailView(ObjectDetailView):
    queryset = RecognitionArrangement.objects.prefetch_related("recognitions__scheme")
    template_name = "certification/recognitionarrangement_detail.html"
    exclude_fields = ("citations", "unverified")


class RecognitionArrangementEditView(ObjectEditView):
    queryset = RecognitionArrangement.objects.all()
    form_class = forms.RecognitionArrangementForm


class RecognitionArrangementDeleteView(ObjectDeleteView):
    queryset = RecognitionArrangement.objects.all()


class RecognitionArrangementHistoryView(ObjectHistoryView):
    queryset = RecognitionArrangement.objects.all()


class RecognitionListView(ObjectListView):
    queryset = Recognition.objects.select_related("arrangement", "scheme")
    filterset_class = filters.RecognitionFilterSet
    table_class = tables.RecognitionTable


class RecognitionDetailView(ObjectDetailView):
    queryset = Recognition.objects.select_related("arrangement", "scheme")


class RecognitionEditView(ObjectEditView):
    queryset = Recognition.objects.all()
    form_class = forms.RecognitionForm


class RecognitionDeleteView(ObjectDeleteView):
    queryset = Recognition.objects.all()


class RecognitionHistoryView(ObjectHistoryView):
    queryset = Recognition.objects.all()


# --- devices -----------------------------------------------------------------------------------

class DeviceListView(ComplianceListMixin, ObjectListView):
    queryset = Device.objects.select_related("owner")
    filterset_class = filters.DeviceFilterSet
    table_class = tables.DeviceTable
    with_compliance = staticmethod(selectors.devices_with_compliance)


class DeviceDetailView(ObjectDetailView):
    queryset = Device.objects.select_related("agency", "owner")
    template_name = "certification/device_detail.html"
    exclude_fields = ("assets",)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        device = self.object
        certifications = list(device.certifications.select_related("scheme").order_by("-issued", "-pk"))
        lost = lost_certificates(certifications)
        context.update(
            compliance_context(selectors.device_compliance_reasons(device)),
            certifications=tables.DeviceCertificationTable(certifications, exclude=("device",), orderable=False),
            assets=list(selectors.dependent_assets(device).select_related("owner")),
            lost=[(certificate, selectors.register_risk_url(certificate)) for certificate in lost],
            can_open_risk=user_can(self.request.user, device.agency_id, Action.ADD, Risk),
            can_add_certification=user_can(self.request.user, device.agency_id, Action.ADD, DeviceCertification),
        )
        return context


class DeviceEditView(ObjectEditView):
    queryset = Device.objects.all()
    form_class = forms.DeviceForm


class DeviceDeleteView(ObjectDeleteView):
    queryset = Device.objects.all()


class DeviceHistoryView(ObjectHistoryView):
    queryset = Device.objects.all()


# --- device certifications ---------------------------------------------------------------------

class DeviceCertificationListView(ObjectListView):
    queryset = DeviceCertification.objects.select_related("device", "scheme")
    filterset_class = filters.DeviceCertificationFilterSet
    table_class = tables.DeviceCertificationTable


class DeviceCertificationDetailView(ObjectDetailView):
    queryset = DeviceCertification.objects.select_related("agency", "device", "scheme")
    template_name = "certification/devicecertification_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        certification = self.object
        if certification in lost_certificates(list(certification.device.certifications.all())):
            context.update(
                assets=list(selectors.dependent_assets(certification.device)),
                risk_url=selectors.register_risk_url(certification),
                can_open_risk=user_can(self.request.user, certification.agency_id, Action.ADD, Risk),
            )
        return context


class DeviceCertificationEditView(ObjectEditView):
    queryset = DeviceCertification.objects.all()
    form_class = forms.DeviceCertificationForm


class DeviceCertificationDeleteView(ObjectDeleteView):
    queryset = DeviceCertification.objects.all()


class DeviceCertificationHistoryView(ObjectHistoryView):
    queryset = DeviceCertification.objects.all()


# --- personnel ---------------------------------------------------------------------------------

class PersonListView(ComplianceListMixin, ObjectListView):
    queryset = Person.objects.select_related("user")
    filterset_class = filters.PersonFilterSet
    table_class = tables.PersonTable
    with_compliance = staticmethod(selectors.people_with_compliance)


class PersonDetailView(ObjectDetailView):
    queryset = Person.objects.select_related("agency", "user")
    template_name = "certification/person_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        person = self.object
        accreditations = person.accreditations.select_related("scheme").order_by("-issued", "-pk")
        context.update(
            compliance_context(selectors.person_compliance_reasons(person)),
            accreditations=tables.PersonnelAccreditationTable(accreditations, exclude=("person",), orderable=False),
            can_add_accreditation=user_can(self.request.user, person.agency_id, Action.ADD, PersonnelAccreditation),
        )
        return context


class PersonEditView(ObjectEditView):
    queryset = Person.objects.all()
    form_class = forms.PersonForm


class PersonDeleteView(ObjectDeleteView):
    queryset = Person.objects.all()


class PersonHistoryView(ObjectHistoryView):
    queryset = Person.objects.all()


class PersonnelAccreditationListView(ObjectListView):
    queryset = PersonnelAccreditation.objects.select_related("person", "scheme")
    filterset_class = filters.PersonnelAccreditationFilterSet
    table_class = tables.PersonnelAccreditationTable


class PersonnelAccreditationDetailView(ObjectDetailView):
    queryset = PersonnelAccreditation.objects.select_related("agency", "person", "scheme")
    template_name = "certification/personnelaccreditation_detail.html"


class PersonnelAccreditationEditView(ObjectEditView):
    queryset = PersonnelAccreditation.objects.all()
    form_class = forms.PersonnelAccreditationForm


class PersonnelAccreditationDeleteView(ObjectDeleteView):
    queryset = PersonnelAccreditation.objects.all()


class PersonnelAccreditationHistoryView(ObjectHistoryView):
    queryset = PersonnelAccreditation.objects.all()


# --- required schemes --------------------------------------------------------------------------

class RequiredSchemeListView(ObjectListView):
    queryset = RequiredScheme.objects.select_related("scheme")
    filterset_class = filters.RequiredSchemeFilterSet
    table_class = tables.RequiredSchemeTable


class RequiredSchemeDetailView(ObjectDetailView):
    queryset = RequiredScheme.objects.select_related("agency", "scheme")


class RequiredSchemeEditView(ObjectEditView):
    queryset = RequiredScheme.objects.all()
    form_class = forms.RequiredSchemeForm


class RequiredSchemeDeleteView(ObjectDeleteView):
    queryset = RequiredScheme.objects.all()


class RequiredSchemeHistoryView(ObjectHistoryView):
    queryset = RequiredScheme.objects.all()


# --- the compliance dashboard ------------------------------------------------------------------

class ComplianceView(ScopedViewMixin, TemplateView):
    """Counts by status, what expires in the next 90 days, and every non-compliant device and
    person with its reasons; a constant number of queries whatever the fleet's size."""

    queryset = Device.objects.all()
    template_name = "certification/compliance.html"

    def get(self, request, *args, **kwargs):
        if request.agency is None or not self.can(Action.VIEW):
            raise PermissionDenied(_("Your role does not include the compliance page."))
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        agency, user = self.request.agency, self.request.user
        summary = selectors.compliance_summary(agency=agency)
        devices = self.non_compliant(selectors.devices_with_compliance, Device.objects.select_related("owner"))
        people = self.non_compliant(selectors.people_with_compliance, Person.objects.select_related("user"))
        device_findings = selectors.compliance_findings(devices, agency=agency) if devices else {}
        person_findings = selectors.compliance_findings(people, agency=agency) if people else {}
        expiring = sorted([*summary["expiring_certifications"], *summary["expiring_accreditations"]],
                          key=lambda certificate: (certificate.expires, certificate._meta.model_name, certificate.pk))
        context.update(
            summary=summary,
            cards=[(_("Devices"), "certification:device_list", self.cards(summary["devices"])),
                   (_("Personnel"), "certification:person_list", self.cards(summary["people"]))],
            expiring=expiring[:selectors.SUMMARY_LISTED],
            expiring_total=summary["expiring_certifications_count"] + summary["expiring_accreditations_count"],
            non_compliant_devices=summary["devices"][ComplianceChoices.NON_COMPLIANT],
            non_compliant_people=summary["people"][ComplianceChoices.NON_COMPLIANT],
            devices=[(d, self.problems(device_findings.get(d.pk, []))) for d in devices],
            people=[(p, self.problems(person_findings.get(p.pk, []))) for p in people],
            can_view_people=user_can(user, agency.pk, Action.VIEW, Person),
        )
        return context

    # The page shows the first of each; the counts above and the filtered lists cover them all.
    listed = 25

    def non_compliant(self, with_compliance, queryset):
        queryset = queryset.restrict(self.request.user, Action.VIEW).in_agency(self.request.agency)
        return list(with_compliance(queryset, agency=self.request.agency)
                    .filter(compliance=ComplianceChoices.NON_COMPLIANT).order_by("name")[:self.listed])

    @staticmethod
    def cards(counts):
        return [(value, label, counts.get(value, 0), theme_colour(COMPLIANCE_COLOURS.get(value)))
                for value, label in ComplianceChoices.choices]

    @staticmethod
    def problems(findings):
        return [finding for finding in findings if finding.status == ComplianceChoices.NON_COMPLIANT]
