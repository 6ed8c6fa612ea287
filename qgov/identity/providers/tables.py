import django_tables2 as tables
from django.utils.translation import gettext_lazy as _

from qgov.exports import ExportColumn
from qgov.identity.providers.models import IdentityProvider
from qgov.tables import BadgeColumn, QgovTable, shown_from


class IdentityProviderTable(QgovTable):
    name = tables.Column(linkify=True)
    issuer = tables.Column(attrs={"td": {"class": "text-break"}})
    is_active = BadgeColumn(lambda record, table: (_("Active"), "#198754") if record.is_active
                            else (_("Inactive"), "#6c757d"), verbose_name=_("Status"))
    mappings = tables.Column(accessor="pk", verbose_name=_("Mappings"), orderable=False)
    jit_provisioning = tables.BooleanColumn(attrs=shown_from("lg"))
    last_updated = tables.DateTimeColumn(attrs=shown_from("lg"))

    class Meta(QgovTable.Meta):
        model = IdentityProvider
        fields = ("name", "protocol", "issuer", "is_active", "mappings", "jit_provisioning", "last_updated")

    # The client secret is never exported.
    export_columns = (
        ExportColumn("id"), ExportColumn("name"), ExportColumn("protocol"), ExportColumn("issuer"),
        ExportColumn("client_id"), ExportColumn("groups_claim"), ExportColumn("jit_provisioning"),
        ExportColumn("required_acr"), ExportColumn("max_auth_age"), ExportColumn("email_domains"),
        ExportColumn("role_mappings"), ExportColumn("is_active"), ExportColumn("created"),
        ExportColumn("last_updated"),
    )

    def render_mappings(self, record):
        return ", ".join(f"{m['claim_value']} → {m['role']}" for m in record.role_mappings) or "—"
