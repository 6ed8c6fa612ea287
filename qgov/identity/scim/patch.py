"""SCIM PATCH (RFC 7644 §3.5.2) for the attributes qgov keeps: the operations are applied to the
resource's current data, and the result is written by the same service as a PUT."""

import dataclasses
import re

from qgov.identity.scim.representation import as_bool, member_ids
from qgov.identity.scim.services import GroupData, ScimInvalid, UserData

# Path (lower case) → UserData field; e-mail paths as Microsoft Entra and Okta send them.
USER_PATHS = {"username": "user_name", "externalid": "external_id", "active": "active",
              "name.givenname": "given_name", "name.familyname": "family_name",
              "emails": "email", 'emails[type eq "work"].value': "email", "emails.value": "email"}
MEMBER_FILTER = re.compile(r'^members\[value eq "([^"]+)"\]$')


def _user_value(field: str, value):
    if field == "active":
        return as_bool(value)
    if field == "email":
        if isinstance(value, list):
            value = next((item.get("value") for item in value if isinstance(item, dict)), "")
        elif isinstance(value, dict):
            value = value.get("value", "")
    if not isinstance(value, str):
        raise ScimInvalid(f"{field} is a string.")
    return value.strip()


def _user_attributes(value) -> dict:
    """A path-less operation's value: attributes by path, `name` flattened."""
    if not isinstance(value, dict):
        raise ScimInvalid("An operation without a path has an object as its value.", "invalidSyntax")
    flat = {}
    for key, item in value.items():
        key = str(key).lower()
        if key == "name" and isinstance(item, dict):
            flat.update({f"name.{sub.lower()}": sub_item for sub, sub_item in item.items()})
        else:
            flat[key] = item
    return flat


def apply_user_patch(data: UserData, operations) -> UserData:
    changes = {}
    for op, path, value in operations:
        attributes = _user_attributes(value) if not path else {path: value}
        for attribute, item in attributes.items():
            field = USER_PATHS.get(attribute)
            if field is None:
                # What qgov does not keep (displayName, title, phone numbers, extension schemas…) is ignored,
                # as in a POST or PUT: identity providers send their whole mapping.
                continue
            if op == "remove":
                if field in ("user_name", "external_id", "active"):
                    raise ScimInvalid(f"{attribute} cannot be removed.", "mutability")
                changes[field] = ""
            else:
                changes[field] = _user_value(field, item)
    if "user_name" in changes and not changes["user_name"]:
        raise ScimInvalid("userName is required.")
    return dataclasses.replace(data, **changes)


def apply_group_patch(group, operations) -> tuple[GroupData | None, list[str], list[str]]:
    """(new attributes or None, member ids to add, member ids to remove)."""
    display_name, external_id, members = group.display_name, None, None
    add, remove = [], []
    for op, path, value in operations:
        if not path:
            attributes = {str(key).lower(): item for key, item in (value or {}).items()} if isinstance(
                value, dict) else None
            if attributes is None:
                raise ScimInvalid("An operation without a path has an object as its value.", "invalidSyntax")
        else:
            attributes = {path: value}
        for attribute, item in attributes.items():
            matched = MEMBER_FILTER.match(attribute)
            if matched and op == "remove":
                remove.append(matched.group(1))
            elif attribute == "members":
                if op == "add":
                    add.extend(member_ids(item))
                elif op == "remove":
                    if item is None:
                        members = []
                    else:
                        remove.extend(member_ids(item))
                else:
                    members, add, remove = member_ids(item), [], []
            elif attribute == "displayname" and op != "remove":
                if not isinstance(item, str) or not item.strip() or len(item) > 256:
                    raise ScimInvalid("displayName is a string of 1 to 256 characters.")
                display_name = item.strip()
            elif attribute == "externalid":
                if op != "remove" and (not isinstance(item, str) or len(item) > 255):
                    raise ScimInvalid("externalId is a string of at most 255 characters.")
                external_id = "" if op == "remove" else item.strip()
            elif attribute != "schemas":
                raise ScimInvalid(f"qgov cannot change {attribute!r} of a group.", "invalidPath")
    changed = display_name != group.display_name or external_id is not None or members is not None
    data = GroupData(display_name, external_id, members) if changed else None
    return data, add, remove
