"""SCIM 2.0 provisioning by agency identity providers (issue #15 §6); see docs/scim.md."""
