"""{% load evidence %}{% evidence_card object %}: the Evidence card of a record's page. The generic
detail page includes it for every model with `accepts_evidence = True`; a custom page that does not
extend it places the tag where it wants the card."""

from django import template
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

from qgov.evidence.forms import EvidenceUploadForm
from qgov.evidence.models import EvidenceFile
from qgov.evidence.services import MAY_READ, MAY_WRITE, accepts_evidence
from qgov.permissions import user_can

register = template.Library()


@register.inclusion_tag("qgov/evidence/_card.html", takes_context=True)
def evidence_card(context, record):
    """One query for the files (the permissions come from the request's memberships), however
    many files the record has."""
    user = context["request"].user
    model = type(record)
    agency_id = getattr(record, "owning_agency_id", None)
    if not accepts_evidence(model) or not user_can(user, agency_id, MAY_READ, model):
        return {"shown": False}
    content_type = ContentType.objects.get_for_model(model)
    files = (EvidenceFile.objects.filter(content_type=content_type, object_id=record.pk, agency_id=agency_id)
             .select_related("uploaded_by", "custodian"))
    can_change = user_can(user, agency_id, MAY_WRITE, model)
    return {
        "shown": True,
        "files": files,
        "can_change": can_change,
        "upload_form": EvidenceUploadForm() if can_change else None,
        "upload_url": reverse("qgov:evidencefile_add", args=[content_type.pk, record.pk]),
        "csrf_token": context.get("csrf_token"),
    }
