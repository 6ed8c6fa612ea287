"""An agency's identity providers: the registration (issuer, client, claims, role mappings) and the
external identities users are keyed on. The same rooms as every model: `models`, `api`, `filters`,
`forms`, `tables`, `views`, `urls`."""
