from django.urls import path

from procurement import portal, views
from procurement.models import (
    Component,
    Contract,
    CryptoPolicy,
    CryptoPolicyAdoption,
    DueDiligenceAnswer,
    DueDiligenceReview,
    Questionnaire,
    Supplier,
)
from qgov.routing import model_urls

app_name = "procurement"

# Named pages first: the generic transition route (reviews/<pk>/<transition>/) would otherwise take
# reviews/<pk>/send/.
urlpatterns = [
    path("reviews/<int:pk>/send/", portal.ReviewSendView.as_view(), name="review_send"),
    path("portal-links/<int:pk>/revoke/", portal.PortalLinkRevokeView.as_view(), name="portallink_revoke"),
    path("suppliers/<int:pk>/reviews/start/", views.SupplierStartReviewView.as_view(), name="supplier_start_review"),
    path("contracts/due/", views.ContractDueView.as_view(), name="contract_due"),
    path("components/import/", views.ComponentImportView.as_view(), name="component_import"),
    path("components/<int:component>/raise-risk/", views.ComponentRiskRaiseView.as_view(),
         name="component_risk_raise"),
    path("components/<int:component>/link-risk/", views.ComponentRiskLinkView.as_view(), name="component_risk_link"),
    *model_urls("suppliers", Supplier, views),
    *model_urls("reviews", DueDiligenceReview, views),
    *model_urls("answers", DueDiligenceAnswer, views),
    *model_urls("components", Component, views),
    *model_urls("contracts", Contract, views),
    *model_urls("questionnaires", Questionnaire, views),
    *model_urls("crypto-policies", CryptoPolicy, views),
    *model_urls("policy-adoption", CryptoPolicyAdoption, views),
]
