"""What procurement adds to qgov: its section, routes, loaders and its action in the role table.
The core reads this declaration (qgov.registry); it names no domain app itself."""

from django.utils.translation import gettext_lazy as _

from procurement import api, catalog, demo, panels, reports
from procurement.models import MANAGE_CRYPTO_POLICY
from qgov.choices import RoleChoices
from qgov.registry import AppAction, QgovApp

APP = QgovApp(
    label="procurement",
    nav_label=_("Procurement"),
    nav_order=30,
    nav=[
        (_("Suppliers"), "procurement:supplier_list"),
        (_("Due diligence"), "procurement:duediligencereview_list"),
        (_("Components"), "procurement:component_list"),
        (_("Contracts"), "procurement:contract_list"),
        (_("Questionnaires"), "procurement:questionnaire_list"),
        (_("Crypto policies"), "procurement:cryptopolicy_list"),
        (_("Contracts due"), "procurement:contract_due"),
        (_("CycloneDX import"), "procurement:component_import"),
    ],
    urls="procurement.urls",
    api_routes=[
        ("questionnaires", api.QuestionnaireViewSet),
        ("crypto-policies", api.CryptoPolicyViewSet),
        ("crypto-policy-adoptions", api.CryptoPolicyAdoptionViewSet),
        ("suppliers", api.SupplierViewSet),
        ("due-diligence-reviews", api.DueDiligenceReviewViewSet),
        ("due-diligence-answers", api.DueDiligenceAnswerViewSet),
        ("components", api.ComponentViewSet),
        ("contracts", api.ContractViewSet),
        ("cyclonedx-imports", api.CycloneDxImportViewSet, "cyclonedx-import"),
    ],
    # Which migration policy dates the agency's cryptography is a policy decision: its admins make it.
    actions=[AppAction(MANAGE_CRYPTO_POLICY, _("Choose the post-quantum migration policy"),
                       frozenset({RoleChoices.ADMIN}))],
    api_enum_names={f"{name.removesuffix('Choices')}Enum": f"procurement.choices.{name}" for name in (
        "CriticalityChoices", "SupplierStatusChoices", "AnswerChoices", "ReviewStatusChoices",
        "ReviewOutcomeChoices", "AuthenticityResultChoices", "CryptoAssetTypeChoices", "CryptoPrimitiveChoices",
        "KeyStateChoices", "ContractStatusChoices", "OpenInterfaceChoices")},
    catalog_loader=catalog.load,
    # The supplier portal (procurement.portal): answered through a one-time link, without an account.
    public_urls=[("portal/", "procurement.portal_urls")],
    panels=[panels.PROCUREMENT_PANEL],
    # Components, and their quantum-vulnerable count, on the pages of the devices, assets and risks
    # they are linked to; certification and the register import nothing of procurement.
    detail_panels=[panels.DEVICE_COMPONENTS, panels.ASSET_COMPONENTS, panels.RISK_COMPONENTS],
    # Its section of the compliance, sunset-review and transparency reports (qgov.reports).
    report_sections=[reports.PROCUREMENT_SECTION],
    demo_loader=demo.load,
)
