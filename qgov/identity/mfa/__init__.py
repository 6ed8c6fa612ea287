"""Second factors (#15 §3): passkeys (WebAuthn) and, where an agency allows it, TOTP, with recovery codes.
Sign-in asks for one through qgov.identity.signin.complete_sign_in; the policy lives in `policy`."""


def _register_reauth():
    from qgov.identity.mfa.reauth import choose
    from qgov.identity.reauth import register_reauth_method

    register_reauth_method(choose)


_register_reauth()
