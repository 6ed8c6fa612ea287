"""GET /api/due-dates/: what is due across every record type, for the caller's agencies."""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, viewsets
from rest_framework.permissions import IsAuthenticated

from qgov.api.fields import BriefRelatedField
from qgov.api.serializers import QueryParametersSerializer
from qgov.api.viewsets import ERROR_SCHEMA
from qgov.duedates.declaration import declaring_models, type_key
from qgov.duedates.selectors import due_items
from qgov.models import Agency

WINDOW_MAX_DAYS = 3650


def type_choices():
    return [(type_key(model), str(model._meta.verbose_name)) for model in declaring_models()]


class DueDateQuerySerializer(QueryParametersSerializer):
    within = serializers.IntegerField(
        required=False, min_value=1, max_value=WINDOW_MAX_DAYS,
        help_text="Days ahead to list (default: the agency's warning window, its largest reminder threshold).")
    type = serializers.ChoiceField(choices=(), required=False,
                                   help_text="Only this record type, as <app_label>.<model>.")
    overdue = serializers.BooleanField(required=False, default=True,
                                       help_text="Include what is past its date and still open (default true).")
    agency = BriefRelatedField(queryset=Agency.objects.all(), required=False,
                               help_text="Only this agency (default: all of yours).")
    # Pagination parameters, read by the paginator.
    extra_known_fields = ("limit", "offset")

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["type"].choices = type_choices()
        if user is not None:
            from qgov.selectors import agencies_of

            self.fields["agency"].queryset = agencies_of(user)


class InstantField(serializers.DateTimeField):
    """An instant as ISO 8601 with the offset it carries (the agency's zone), not the request's."""

    def enforce_timezone(self, value):
        return value


class DueItemSerializer(serializers.Serializer):
    type = serializers.CharField(help_text="<app_label>.<model>")
    type_label = serializers.CharField()
    record = BriefRelatedField(read_only=True)
    label = serializers.CharField(help_text="What is due, e.g. “Risk acceptance ends”.")
    due_name = serializers.CharField(source="due.key")
    due_on = serializers.DateField(help_text="The date due; for a deadline in hours, its date in the agency's zone.")
    due_at = InstantField(allow_null=True, read_only=True, help_text=(
        "A deadline in hours: the exact instant, ISO 8601 with the agency's UTC offset "
        "(e.g. 2026-12-03T14:00:00+01:00); null for a date."))
    days_left = serializers.IntegerField(help_text="Negative when overdue.")
    overdue = serializers.BooleanField()
    escalated = serializers.BooleanField(help_text="Past the last threshold of an escalating due date.")
    owner = BriefRelatedField(read_only=True, allow_null=True)
    agency = BriefRelatedField(source="record.agency", read_only=True)
    url = serializers.CharField(help_text="The record's page in the browser.")


class DueDateViewSet(viewsets.GenericViewSet):
    """What is due (expiries, deadlines) within a window, across every record type, in the
    caller's agencies; only records the caller may view. Sorted by date; on one date, deadlines in
    hours first, by instant."""

    permission_classes = [IsAuthenticated]  # due_items restricts every model's records to the caller's
    filter_backends = ()  # the parameters are DueDateQuerySerializer's; there is no queryset to filter
    serializer_class = DueItemSerializer

    @extend_schema(
        parameters=[DueDateQuerySerializer],
        responses={200: DueItemSerializer(many=True),
                   400: OpenApiResponse(ERROR_SCHEMA, description="A bad parameter; `errors` names it.")},
    )
    def list(self, request):
        query = DueDateQuerySerializer(data=request.query_params, user=request.user, context={"request": request})
        query.is_valid(raise_exception=True)
        params = query.validated_data
        agency = params.get("agency")
        within = params.get("within") or (agency.warning_window_days if agency else 90)
        items = due_items(user=request.user, agency=agency, within_days=within, overdue=params["overdue"],
                          types={params["type"]} if params.get("type") else None)
        page = self.paginate_queryset(items)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

