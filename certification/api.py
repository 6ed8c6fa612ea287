"""The certification API: the scheme catalog and its recognition arrangements (read-only to all but
platform admins), devices, certifications, personnel, accreditations, required schemes, and the
compliance of devices and people (read-only, computed in the database, with every reason)."""

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, inline_serializer
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from certification import selectors
from certification.choices import ComplianceChoices
from certification.filters import (
    DeviceCertificationFilterSet,
    DeviceFilterSet,
    PersonFilterSet,
    PersonnelAccreditationFilterSet,
    RecognitionArrangementFilterSet,
    RecognitionFilterSet,
    RequiredSchemeFilterSet,
    SchemeFilterSet,
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
from qgov.api.fields import api_url
from qgov.api.schema import RECORD_ID
from qgov.api.serializers import PortableModelSerializer, QgovModelSerializer
from qgov.api.viewsets import QgovModelViewSet
from qgov.imports.api import ImportActionMixin
from qgov.models import RECORD_FIELDS, Agency
from qgov.roles import Action


class SchemeSerializer(QgovModelSerializer):
    class Meta:
        model = Scheme
        fields = (*QgovModelSerializer.base_fields, "code", "name", "kind", "family", "issuing_body", "jurisdictions",
                  "levels", "validity_rule", "validity_years", "interim_validity_years", "description", "citations",
                  "unverified", *RECORD_FIELDS)


class RecognitionSerializer(QgovModelSerializer):
    class Meta:
        model = Recognition
        fields = (*QgovModelSerializer.base_fields, "arrangement", "scheme", "max_level", "max_level_rank",
                  "conditions", *RECORD_FIELDS)
        read_only_fields = ("max_level_rank",)


class NestedRecognitionSerializer(PortableModelSerializer):
    scheme = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = Recognition
        fields = ("id", "scheme", "max_level", "max_level_rank", "conditions")


class RecognitionArrangementSerializer(QgovModelSerializer):
    recognitions = NestedRecognitionSerializer(many=True, read_only=True)

    class Meta:
        model = RecognitionArrangement
        fields = (*QgovModelSerializer.base_fields, "code", "name", "member_jurisdictions", "description",
                  "citations", "unverified", "recognitions", *RECORD_FIELDS)


class DeviceSerializer(QgovModelSerializer):
    class Meta:
        model = Device
        fields = (*QgovModelSerializer.base_fields, "agency", "name", "kind", "vendor", "model", "serial",
                  "firmware_version", "firmware_sha256", "site", "end_of_support", "owner", "assets", "status",
                  "status_note", "notes",
                  *RECORD_FIELDS)


CERTIFICATE_FIELDS = ("scheme", "level", "level_rank", "issued", "expires", "review_due", "status", "status_note",
                      "notes")


class DeviceCertificationSerializer(QgovModelSerializer):
    class Meta:
        model = DeviceCertification
        fields = (*QgovModelSerializer.base_fields, "agency", "device", *CERTIFICATE_FIELDS,
                  "certificate_id", "evaluation_lab", "product_version", "firmware_version", "firmware_sha256",
                  "protection_profile", "interim", *RECORD_FIELDS)
        read_only_fields = ("level_rank",)


class PersonSerializer(QgovModelSerializer):
    class Meta:
        model = Person
        fields = (*QgovModelSerializer.base_fields, "agency", "name", "email", "user", "role", "unit", "active",
                  "notes", *RECORD_FIELDS)


class PersonnelAccreditationSerializer(QgovModelSerializer):
    class Meta:
        model = PersonnelAccreditation
        fields = (*QgovModelSerializer.base_fields, "agency", "person", *CERTIFICATE_FIELDS,
                  "credential_id", *RECORD_FIELDS)
        read_only_fields = ("level_rank",)


class RequiredSchemeSerializer(QgovModelSerializer):
    class Meta:
        model = RequiredScheme
        fields = (*QgovModelSerializer.base_fields, "agency", "scheme", "min_level", "min_level_rank", "device_kind",
                  "personnel_role", "notes", *RECORD_FIELDS)
        read_only_fields = ("min_level_rank",)


# --- viewsets --------------------------------------------------------------------------------------

class SchemeViewSet(QgovModelViewSet):
    queryset = Scheme.objects.all()
    serializer_class = SchemeSerializer
    filterset_class = SchemeFilterSet


class RecognitionArrangementViewSet(QgovModelViewSet):
    queryset = RecognitionArrangement.objects.prefetch_related("recognitions__scheme")
    serializer_class = RecognitionArrangementSerializer
    filterset_class = RecognitionArrangementFilterSet


class RecognitionViewSet(QgovModelViewSet):
    queryset = Recognition.objects.select_related("arrangement", "scheme")
    serializer_class = RecognitionSerializer
    filterset_class = RecognitionFilterSet


class DeviceViewSet(ImportActionMixin, QgovModelViewSet):
    queryset = Device.objects.select_related("agency", "owner").prefetch_related("assets")
    serializer_class = DeviceSerializer
    filterset_class = DeviceFilterSet


class DeviceCertificationViewSet(QgovModelViewSet):
    queryset = DeviceCertification.objects.select_related("agency", "device", "scheme")
    serializer_class = DeviceCertificationSerializer
    filterset_class = DeviceCertificationFilterSet


class PersonViewSet(QgovModelViewSet):
    queryset = Person.objects.select_related("agency", "user")
    serializer_class = PersonSerializer
    filterset_class = PersonFilterSet


class PersonnelAccreditationViewSet(QgovModelViewSet):
    queryset = PersonnelAccreditation.objects.select_related("agency", "person", "scheme")
    serializer_class = PersonnelAccreditationSerializer
    filterset_class = PersonnelAccreditationFilterSet


class RequiredSchemeViewSet(QgovModelViewSet):
    queryset = RequiredScheme.objects.select_related("agency", "scheme")
    serializer_class = RequiredSchemeSerializer
    filterset_class = RequiredSchemeFilterSet


# --- compliance ------------------------------------------------------------------------------------

FINDING_SCHEMA = inline_serializer("ComplianceFinding", {
    "requirement": serializers.IntegerField(allow_null=True),
    "requirement_label": serializers.CharField(),
    "status": serializers.ChoiceField(choices=ComplianceChoices.choices),
    "reason_code": serializers.CharField(),
    "message": serializers.CharField(),
    "certification": serializers.IntegerField(allow_null=True),
    "arrangement": serializers.CharField(allow_null=True),
})


class ComplianceSerializer(serializers.Serializer):
    """One device or person: its compliance and the findings behind it."""

    subject = serializers.SerializerMethodField()
    id = serializers.IntegerField()
    url = serializers.SerializerMethodField()
    display = serializers.SerializerMethodField()
    agency = serializers.IntegerField(source="agency_id")
    kind = serializers.SerializerMethodField()
    compliance = serializers.ChoiceField(choices=ComplianceChoices.choices)
    findings = serializers.SerializerMethodField()

    def get_subject(self, obj) -> str:
        return "device" if isinstance(obj, Device) else "person"

    def get_url(self, obj) -> str | None:
        return api_url(obj, self.context.get("request"))

    def get_display(self, obj) -> str:
        return str(obj)

    def get_kind(self, obj) -> str:
        return obj.kind if isinstance(obj, Device) else obj.role

    @extend_schema_field(serializers.ListField(child=FINDING_SCHEMA))
    def get_findings(self, obj) -> list[dict]:
        return [finding.as_dict() for finding in self.context["findings"].get(obj.pk, [])]


SUBJECTS = {"device": (Device, DeviceFilterSet, selectors.devices_with_compliance),
            "person": (Person, PersonFilterSet, selectors.people_with_compliance)}

COMPLIANCE_PARAMETERS = [
    OpenApiParameter("subject", str, enum=list(SUBJECTS), description="device (default) or person"),
    OpenApiParameter("agency", RECORD_ID, description="The agency (required when you belong to several)."),
    OpenApiParameter("compliance", str, many=True, enum=ComplianceChoices.values),
    OpenApiParameter("q", str, description="Search"),
]


class ComplianceViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Devices (`?subject=device`, the default) or people (`?subject=person`) of one agency, each with
    its compliance and every finding; `GET …/summary/` counts them and lists what expires soon. The
    compliance is computed in the database and the findings of a page in a constant number of queries."""

    serializer_class = ComplianceSerializer
    queryset = Device.objects.none()  # the schema's; get_queryset picks the subject

    def subject(self):
        subject = self.request.query_params.get("subject", "device")
        if subject not in SUBJECTS:
            raise ValidationError({"subject": [_("Choose “device” or “person”.")]})
        return SUBJECTS[subject]

    def agency(self):
        agencies = Agency.objects.restrict(self.request.user, Action.VIEW)
        wanted = self.request.query_params.get("agency")
        if wanted is not None:  # sent empty, it is refused like any other value that is not an agency
            if not wanted.isdigit() or not (agency := agencies.filter(pk=int(wanted)).first()):
                raise ValidationError({"agency": [_("Choose one of your agencies.")]})
            return agency
        found = list(agencies.order_by("pk")[:2])
        if len(found) != 1:
            raise ValidationError({"agency": [_("Say which agency (?agency=<id>).")]})
        return found[0]

    def get_queryset(self):
        model, _filterset, annotate = self.subject()
        self.compliance_agency = self.agency()
        queryset = model.objects.restrict(self.request.user, Action.VIEW).in_agency(
            self.compliance_agency).order_by("name", "pk")
        return annotate(queryset, agency=self.compliance_agency)

    def filter_queryset(self, queryset):
        _model, filterset_class, _annotate = self.subject()
        filterset = filterset_class(self.request.query_params, queryset, request=self.request)
        if not filterset.is_valid():
            raise ValidationError(filterset.errors)
        return filterset.qs

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "findings": getattr(self, "page_findings", {})}

    @extend_schema(parameters=COMPLIANCE_PARAMETERS)
    def list(self, request, *args, **kwargs):
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        rows = page if page is not None else list(queryset)
        self.page_findings = selectors.compliance_findings(rows, agency=self.compliance_agency)
        serializer = self.get_serializer(rows, many=True)
        return self.get_paginated_response(serializer.data) if page is not None else Response(serializer.data)

    @extend_schema(parameters=[COMPLIANCE_PARAMETERS[1]], responses=inline_serializer("ComplianceSummary", {
        "agency": serializers.IntegerField(),
        "devices": serializers.DictField(child=serializers.IntegerField()),
        "people": serializers.DictField(child=serializers.IntegerField()),
        "days": serializers.IntegerField(),
        "warning_window_days": serializers.IntegerField(),
        "expiring_certifications": serializers.ListField(
            child=serializers.DictField(), help_text="The first 50, soonest first; the count covers them all."),
        "expiring_certifications_count": serializers.IntegerField(),
        "expiring_accreditations": serializers.ListField(
            child=serializers.DictField(), help_text="The first 50, soonest first; the count covers them all."),
        "expiring_accreditations_count": serializers.IntegerField(),
    }))
    @action(detail=False, methods=["get"])
    def summary(self, request):
        agency = self.agency()
        summary = selectors.compliance_summary(agency=agency)

        def brief(record, holder):
            return {"id": record.pk, "url": api_url(record, request), "display": str(record),
                    "holder": str(getattr(record, holder)), "expires": record.expires.isoformat(),
                    "status": record.status}

        return Response({
            "agency": agency.pk, "devices": summary["devices"], "people": summary["people"],
            "days": summary["days"], "warning_window_days": summary["warning_window_days"],
            "expiring_certifications": [brief(c, "device") for c in summary["expiring_certifications"]],
            "expiring_certifications_count": summary["expiring_certifications_count"],
            "expiring_accreditations": [brief(a, "person") for a in summary["expiring_accreditations"]],
            "expiring_accreditations_count": summary["expiring_accreditations_count"],
        })
