"""Webhook pages for agency admins: the endpoints, each with its delivery log; the secret shown
once after a create or a rotation; a test event; redelivery. The workflows are `services`."""

import json

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View

from qgov.integrations.webhooks import services
from qgov.integrations.webhooks.filters import WebhookEndpointFilterSet
from qgov.integrations.webhooks.forms import RedeliverSinceForm, WebhookEndpointForm
from qgov.integrations.webhooks.models import WebhookDelivery, WebhookEndpoint
from qgov.integrations.webhooks.tables import WebhookDeliveryTable, WebhookEndpointTable
from qgov.roles import Action
from qgov.services import object_update
from qgov.views.generic import (
    ObjectDeleteView,
    ObjectDetailView,
    ObjectEditView,
    ObjectHistoryView,
    ObjectListView,
    ScopedViewMixin,
)

ENDPOINTS = WebhookEndpoint.objects.select_related("agency", "created_by")
DELIVERIES = WebhookDelivery.objects.select_related("endpoint", "agency")
LOG_LENGTH = 50  # deliveries on an endpoint's page; the API pages through all of them


def _secret_page(request, endpoint, secret, *, rotated: bool):
    return render(request, "qgov/webhooks/webhook_secret.html",
                  {"object": endpoint, "secret": secret, "rotated": rotated})


class WebhookEndpointListView(ObjectListView):
    queryset = ENDPOINTS
    filterset_class = WebhookEndpointFilterSet
    table_class = WebhookEndpointTable


class WebhookEndpointDetailView(ObjectDetailView):
    queryset = ENDPOINTS
    template_name = "qgov/webhooks/webhookendpoint_detail.html"
    exclude_fields = ("event_types",)  # listed by name in the side card

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        log = DELIVERIES.filter(endpoint=self.object).order_by("-created", "-pk")[:LOG_LENGTH]
        context.update(deliveries=WebhookDeliveryTable(list(log)), log_length=LOG_LENGTH,
                       redeliver_form=RedeliverSinceForm())
        return context


class WebhookEndpointEditView(ObjectEditView):
    queryset = ENDPOINTS
    form_class = WebhookEndpointForm

    def save(self, form):
        data = {**self.initial_data(form), **form.service_data()}
        if self.object is None:
            endpoint, self.new_secret = services.endpoint_create(user=self.request.user, data=data)
            return endpoint
        # Enabled again (form.initial is the stored value; the form already set the instance's):
        # why it stopped is history.
        if data.get("is_active") and not form.initial.get("is_active"):
            data.update(disabled_reason="", disabled_at=None)
        return object_update(instance=self.object, user=self.request.user, data=data,
                             expected_version=form.cleaned_data["version"])

    def saved_response(self, saved):
        if self.object is None:
            return _secret_page(self.request, saved, self.new_secret, rotated=False)
        return super().saved_response(saved)


class WebhookEndpointDeleteView(ObjectDeleteView):
    queryset = ENDPOINTS


class WebhookEndpointHistoryView(ObjectHistoryView):
    queryset = ENDPOINTS


class EndpointActionView(ScopedViewMixin, View):
    """A button on an endpoint's page (POST only): load the endpoint the user manages, act, come back."""

    queryset = ENDPOINTS
    action = Action.CHANGE

    def post(self, request, pk):
        endpoint = get_object_or_404(self.restricted_queryset(), pk=pk)
        try:
            response = self.act(endpoint)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            response = None
        return response or HttpResponseRedirect(endpoint.get_absolute_url())


class WebhookEndpointRotateSecretView(EndpointActionView):
    def act(self, endpoint):
        secret = services.endpoint_rotate_secret(endpoint=endpoint, user=self.request.user)
        endpoint.refresh_from_db()
        return _secret_page(self.request, endpoint, secret, rotated=True)


class WebhookEndpointTestView(EndpointActionView):
    def act(self, endpoint):
        services.endpoint_send_test(endpoint=endpoint, user=self.request.user)
        messages.success(self.request, _("Test event queued; its delivery is at the top of the log."))


class WebhookEndpointRedeliverView(EndpointActionView):
    def act(self, endpoint):
        form = RedeliverSinceForm(self.request.POST)
        if not form.is_valid():
            raise ValidationError([message for errors in form.errors.values() for message in errors])
        count = services.deliveries_redeliver_failed(endpoint=endpoint, user=self.request.user,
                                                     since=form.cleaned_data["since"])
        messages.success(self.request, _("%(count)d failed deliveries queued again.") % {"count": count})


class WebhookDeliveryDetailView(ObjectDetailView):
    queryset = DELIVERIES.prefetch_related("attempt_log")
    template_name = "qgov/webhooks/webhookdelivery_detail.html"
    exclude_fields = ("payload",)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["payload_json"] = json.dumps(self.object.payload, indent=2, ensure_ascii=False, sort_keys=True)
        return context


class WebhookDeliveryRedeliverView(ScopedViewMixin, View):
    queryset = DELIVERIES
    action = Action.CHANGE

    def post(self, request, pk):
        delivery = get_object_or_404(self.restricted_queryset(), pk=pk)
        try:
            services.delivery_redeliver(delivery=delivery, user=request.user)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("Delivery queued again with the same webhook id."))
        return HttpResponseRedirect(reverse("qgov:webhookdelivery_detail", args=[delivery.pk]))
