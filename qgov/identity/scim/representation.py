"""SCIM 2.0 JSON (RFC 7643/7644) in and out: resources as qgov shows them, request bodies checked into
the services' data, list filters, and the error body."""

import re

from django.urls import reverse

from qgov.identity.scim.models import ScimGroup, ScimUser
from qgov.identity.scim.services import GroupData, ScimInvalid, UserData

USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"
LIST_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
PATCH_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error"
MAX_COUNT = 200


def error_body(status: int, detail: str, scim_type: str | None = None) -> dict:
    body = {"schemas": [ERROR_SCHEMA], "status": str(status), "detail": detail}
    if scim_type:
        body["scimType"] = scim_type
    return body


def _meta(request, resource_type: str, obj, route: str) -> dict:
    location = request.build_absolute_uri(reverse(route, args=[obj.provider_id, obj.scim_id]))
    return {"resourceType": resource_type, "created": obj.created.isoformat(),
            "lastModified": obj.last_updated.isoformat(), "location": location}


def user_resource(request, scim_user: ScimUser) -> dict:
    user = scim_user.identity.user
    resource = {"schemas": [USER_SCHEMA], "id": str(scim_user.scim_id), "userName": scim_user.user_name,
                "name": {"givenName": user.first_name, "familyName": user.last_name},
                "active": user.is_active,
                "groups": [{"value": str(group.scim_id), "display": group.display_name}
                           for group in scim_user.groups.all()],
                "meta": _meta(request, "User", scim_user, "scim:user")}
    if scim_user.external_id:
        resource["externalId"] = scim_user.external_id
    if user.email:
        resource["emails"] = [{"value": user.email, "primary": True}]
    return resource


def group_resource(request, group: ScimGroup) -> dict:
    resource = {"schemas": [GROUP_SCHEMA], "id": str(group.scim_id), "displayName": group.display_name,
                "members": [{"value": str(member.scim_id), "display": member.user_name,
                             "$ref": request.build_absolute_uri(reverse("scim:user", args=[group.provider_id,
                                                                                          member.scim_id]))}
                            for member in group.members.all()],
                "meta": _meta(request, "Group", group, "scim:group")}
    if group.external_id:
        resource["externalId"] = group.external_id
    return resource


def list_response(resources: list, total: int, start_index: int) -> dict:
    return {"schemas": [LIST_SCHEMA], "totalResults": total, "startIndex": start_index,
            "itemsPerPage": len(resources), "Resources": resources}


# --- reading request bodies ----------------------------------------------------------------


def _object(body) -> dict:
    if not isinstance(body, dict):
        raise ScimInvalid("The body is a JSON object.", "invalidSyntax")
    # Attribute names are case-insensitive (RFC 7643 §2.1).
    return {str(key).lower(): value for key, value in body.items()}


def _text(body: dict, name: str, *, required: bool = False, limit: int = 255) -> str | None:
    value = body.get(name.lower())
    if value is None:
        if required:
            raise ScimInvalid(f"{name} is required.")
        return None
    if not isinstance(value, str) or (required and not value.strip()) or len(value) > limit:
        raise ScimInvalid(f"{name} is a string of at most {limit} characters" + (", not empty." if required else "."))
    return value.strip()


def as_bool(value, name: str = "active") -> bool:
    """A boolean; "True"/"False" strings too (Microsoft Entra sends them in PATCH values)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise ScimInvalid(f"{name} is true or false.")


def _email(value) -> str:
    if value is None:
        return ""
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise ScimInvalid("emails is a list of {value, type, primary}.")
    chosen = next((item for item in value if item.get("primary") is True), value[0] if value else None)
    if chosen is None:
        return ""
    address = chosen.get("value")
    if not isinstance(address, str) or len(address) > 254:
        raise ScimInvalid("An e-mail value is an address of at most 254 characters.")
    return address.strip()


def user_data(body) -> UserData:
    body = _object(body)
    name = body.get("name") or {}
    if not isinstance(name, dict):
        raise ScimInvalid("name is an object with givenName and familyName.")
    name = {key.lower(): value for key, value in name.items()}
    return UserData(user_name=_text(body, "userName", required=True),
                    external_id=_text(body, "externalId"),
                    given_name=_text(name, "givenName", limit=150) or "",
                    family_name=_text(name, "familyName", limit=150) or "",
                    email=_email(body.get("emails")),
                    active=as_bool(body["active"]) if body.get("active") is not None else True)


def user_data_of(scim_user: ScimUser) -> UserData:
    user = scim_user.identity.user
    return UserData(user_name=scim_user.user_name, external_id=None, given_name=user.first_name,
                    family_name=user.last_name, email=user.email, active=user.is_active)


def member_ids(value) -> list[str]:
    if value is None:
        return []
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(item, dict) and isinstance(item.get("value"), str)
                                              for item in value):
        raise ScimInvalid("members is a list of {\"value\": \"<user id>\"}.")
    return [item["value"] for item in value]


def group_data(body) -> GroupData:
    body = _object(body)
    return GroupData(display_name=_text(body, "displayName", required=True, limit=256),
                     external_id=_text(body, "externalId"),
                     member_ids=member_ids(body.get("members")))


def patch_operations(body) -> list[tuple[str, str, object]]:
    """The PatchOp's operations as (op, lower-case path or "", value)."""
    body = _object(body)
    if PATCH_SCHEMA not in (body.get("schemas") or []):
        raise ScimInvalid(f"A PATCH body names the schema {PATCH_SCHEMA}.", "invalidSyntax")
    operations = body.get("operations")
    if not isinstance(operations, list) or not operations:
        raise ScimInvalid("Operations is a list of {op, path, value}.", "invalidSyntax")
    result = []
    for operation in operations:
        operation = _object(operation)
        op, path = operation.get("op"), operation.get("path") or ""
        if not isinstance(op, str) or op.lower() not in ("add", "replace", "remove") or not isinstance(path, str):
            raise ScimInvalid("op is add, replace or remove; path a string.", "invalidSyntax")
        result.append((op.lower(), path.strip().lower(), operation.get("value")))
    return result


# --- filters -------------------------------------------------------------------------------

FILTER = re.compile(r'^\s*([A-Za-z.]+)\s+eq\s+"((?:[^"\\]|\\.)*)"\s*$', re.IGNORECASE)


def parse_filter(value: str | None, allowed: dict[str, str]) -> dict | None:
    """`attribute eq "value"` for the attributes in `allowed` (SCIM name, lower case → ORM lookup)."""
    if not value:
        return None
    match = FILTER.match(value)
    if match is None or match.group(1).lower() not in allowed:
        supported = ", ".join(f'{name} eq "…"' for name in allowed)
        raise ScimInvalid(f"Supported filters: {supported}.", "invalidFilter")
    text = re.sub(r"\\(.)", r"\1", match.group(2))
    return {allowed[match.group(1).lower()]: text}


def page_bounds(params) -> tuple[int, int]:
    """(startIndex, count): 1-based, count capped at MAX_COUNT (RFC 7644 §3.4.2.4)."""
    try:
        start = max(1, int(params.get("startIndex", 1)))
        count = min(MAX_COUNT, max(0, int(params.get("count", MAX_COUNT))))
    except ValueError:
        raise ScimInvalid("startIndex and count are integers.", "invalidValue") from None
    return start, count
