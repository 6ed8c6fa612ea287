"""SAML 2.0 sign-in through an agency's identity provider (issue #15 §1): pysaml2 as the service provider,
the rest shared with OpenID Connect (qgov.identity.sso.sign_in_verified, qgov.identity.provisioning,
qgov.identity.signin)."""
