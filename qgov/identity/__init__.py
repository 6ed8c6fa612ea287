"""Who signs in, from where, with which role (docs/identity-providers.md).

- `providers`: each agency's identity providers (OpenID Connect; SAML reserved), their allow-list
  of claim values to roles, and the external identities (issuer, subject) users are keyed on.
- `provisioning`: what a sign-in through a provider does to the user's memberships.
- `crypto`: client secrets sealed at rest, with key rotation.
"""
