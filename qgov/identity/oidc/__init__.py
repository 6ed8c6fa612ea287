"""Sign-in through an agency's OpenID Connect provider (issue #15, §1).

- `client`: the provider's discovery document and keys (cached), and the token request, over HTTP
  with TLS verification and timeouts.
- `tokens`: the ID token's checks (signature, algorithm, issuer, audience, times, nonce, auth_time).
- `flow`: the authorization request (PKCE, state, nonce) and what the session keeps of it until the
  callback, single use.
- `views`: the start of the code flow and its callback, which hands the verified claims to
  qgov.identity.sso (finding the provider, sign in, step up, or refuse with a page, and the fresh
  authentication of provider users, for both protocols).
"""
