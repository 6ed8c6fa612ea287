from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView

from qgov.autocomplete import AutocompleteView
from qgov.duedates.views import DueSoonView
from qgov.identity import views as identity_views
from qgov.identity.mfa import account as mfa_account
from qgov.identity.mfa import reauth as mfa_reauth
from qgov.identity.mfa import views as mfa_views
from qgov.identity.signin import QgovLoginView
from qgov.imports.views import ImportRunDetailView, ImportRunListView
from qgov.models import Agency, AuditEvent, ImportRun, Membership
from qgov.routing import object_urls
from qgov.views import core

core_patterns = [
    *object_urls(
        "agencies",
        Agency,
        list_view=core.AgencyListView,
        detail_view=core.AgencyDetailView,
        edit_view=core.AgencyEditView,
        history_view=core.AgencyHistoryView,
    ),
    *object_urls(
        "members",
        Membership,
        list_view=core.MembershipListView,
        detail_view=core.MembershipDetailView,
        edit_view=core.MembershipEditView,
        delete_view=core.MembershipDeleteView,
        history_view=core.MembershipHistoryView,
    ),
    path("audit/checkpoints/", core.AuditCheckpointListView.as_view(), name="auditcheckpoint_list"),
    path("audit/checkpoints/<int:pk>/download/", core.AuditCheckpointDownloadView.as_view(),
         name="auditcheckpoint_download"),
    *object_urls("audit", AuditEvent, list_view=core.AuditEventListView, detail_view=core.AuditEventDetailView),
    *object_urls("imports", ImportRun, list_view=ImportRunListView, detail_view=ImportRunDetailView),
    path("evidence/", include("qgov.evidence.urls")),
    path("reports/", include("qgov.reports.urls")),
    path("agency/", core.AgencyAdminView.as_view(), name="agency_admin"),
    path("agency/switch/", core.SwitchAgencyView.as_view(), name="agency_switch"),
    path("agency/invite/", core.InviteMemberView.as_view(), name="member_invite"),
    path("agency/", include("qgov.integrations.webhooks.urls")),
    path("agency/", include("qgov.identity.providers.urls")),  # identity providers (qgov.identity)
    path("agency/tokens/add/", core.SystemTokenCreateView.as_view(), name="token_add"),
    path("tokens/<int:pk>/revoke/", core.TokenRevokeView.as_view(), name="token_revoke"),
    path("notifications/", core.NotificationListView.as_view(), name="notifications"),
    path("due/", DueSoonView.as_view(), name="due_soon"),
    # The user's account (qgov.identity): their sessions, and re-authentication before sensitive actions.
    path("account/sessions/", identity_views.UserSessionListView.as_view(), name="account_sessions"),
    path("account/sessions/<int:pk>/end/", identity_views.UserSessionEndView.as_view(), name="account_session_end"),
    path("account/reauth/", identity_views.ReauthView.as_view(), name="reauth"),
    # The account's second factors (qgov.identity.mfa).
    path("account/security/", mfa_account.SecurityView.as_view(), name="account_security"),
    path("account/confirm/", mfa_reauth.ConfirmView.as_view(), name="account_confirm"),
    path("account/confirm/passkey/options/", mfa_reauth.PasskeyOptionsView.as_view(),
         name="account_confirm_passkey_options"),
    path("account/confirm/passkey/verify/", mfa_reauth.PasskeyVerifyView.as_view(),
         name="account_confirm_passkey_verify"),
    path("account/security/passkey/", mfa_account.PasskeyAddView.as_view(), name="account_passkey_add"),
    path("account/security/totp/", mfa_views.TotpEnrolView.as_view(), name="account_totp_add"),
    path("account/security/<int:pk>/remove/", mfa_account.AuthenticatorRemoveView.as_view(),
         name="account_authenticator_remove"),
    path("account/security/recovery-codes/", mfa_account.RecoveryCodesView.as_view(), name="account_recovery_codes"),
    path("account/security/recovery-codes/new/", mfa_account.RecoveryCodesRegenerateView.as_view(),
         name="account_recovery_codes_new"),
    path("autocomplete/<slug:app_label>/<slug:model_name>/", AutocompleteView.as_view(), name="autocomplete"),
]

urlpatterns = [
    path("", core.DashboardView.as_view(), name="dashboard"),
    path("login/", QgovLoginView.as_view(), name="login"),
    # Sign-in through the agency's identity provider (qgov.identity.sso): lookup, start, the OpenID Connect
    # callback, SAML's assertion consumer service and metadata.
    path("login/sso/", include("qgov.identity.sso_urls")),
    # The admin site's own login form would sign in without the second step: it sends people here.
    path("admin/login/", RedirectView.as_view(pattern_name="login", query_string=True)),
    # The second step of a sign-in (qgov.identity.mfa): before the user is signed in, so outside "qgov:".
    path("login/mfa/", include([
        path("", mfa_views.SecondStepView.as_view(), name="mfa_step"),
        path("enrol/", mfa_views.EnrolView.as_view(), name="mfa_enrol"),
        path("totp/enrol/", mfa_views.TotpEnrolView.as_view(), name="mfa_totp_enrol"),
        path("passkey/options/", mfa_views.passkey_sign_in_options, name="mfa_passkey_options"),
        path("passkey/verify/", mfa_views.passkey_sign_in_verify, name="mfa_passkey_verify"),
        path("passkey/register/options/", mfa_views.passkey_register_options, name="mfa_passkey_register_options"),
        path("passkey/register/verify/", mfa_views.passkey_register_verify, name="mfa_passkey_register_verify"),
    ])),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password/", include([
        path("change/", auth_views.PasswordChangeView.as_view(), name="password_change"),
        path("change/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
        path("reset/<uidb64>/<token>/", auth_views.PasswordResetConfirmView.as_view(),
             name="password_reset_confirm"),
        path("reset/done/", auth_views.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
    ])),
    path("", include((core_patterns, "qgov"))),
]
