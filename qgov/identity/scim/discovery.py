"""What a SCIM client reads before it provisions (RFC 7644 §4): the service provider's features, the
resource types and a minimal description of the schemas qgov keeps."""

from django.urls import reverse
from rest_framework.response import Response

from qgov.identity.scim.representation import GROUP_SCHEMA, MAX_COUNT, USER_SCHEMA, list_response
from qgov.identity.scim.views import ScimView

CONFIG_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
RESOURCE_TYPE_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:ResourceType"
SCHEMA_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Schema"


def _attribute(name, *, type_="string", required=False, multi=False, mutability="readWrite", sub=None,
               unique="none"):
    attribute = {"name": name, "type": type_, "multiValued": multi, "required": required, "caseExact": False,
                 "mutability": mutability, "returned": "default", "uniqueness": unique}
    if sub is not None:
        attribute["subAttributes"] = sub
    return attribute


SCHEMAS = [
    {"id": USER_SCHEMA, "name": "User", "description": "A person the identity provider provisions.",
     "attributes": [
         _attribute("userName", required=True, unique="server"),
         _attribute("name", type_="complex", sub=[_attribute("givenName"), _attribute("familyName")]),
         _attribute("emails", type_="complex", multi=True,
                    sub=[_attribute("value"), _attribute("type"), _attribute("primary", type_="boolean")]),
         _attribute("active", type_="boolean"),
         _attribute("groups", type_="complex", multi=True, mutability="readOnly",
                    sub=[_attribute("value", mutability="readOnly"), _attribute("display", mutability="readOnly")]),
     ]},
    {"id": GROUP_SCHEMA, "name": "Group", "description": "A group; mapped groups give roles in the agency.",
     "attributes": [
         _attribute("displayName", required=True, unique="server"),
         _attribute("members", type_="complex", multi=True,
                    sub=[_attribute("value", mutability="immutable"), _attribute("display", mutability="readOnly")]),
     ]},
]


class ServiceProviderConfigView(ScimView):
    def get(self, request, provider):
        return Response({
            "schemas": [CONFIG_SCHEMA],
            "documentationUri": request.build_absolute_uri("/api/guide/"),
            "patch": {"supported": True}, "bulk": {"supported": False, "maxOperations": 0, "maxPayloadSize": 0},
            "filter": {"supported": True, "maxResults": MAX_COUNT},
            "changePassword": {"supported": False}, "sort": {"supported": False}, "etag": {"supported": False},
            "authenticationSchemes": [{"type": "oauthbearertoken", "name": "Bearer token", "primary": True,
                                       "description": "The provider's SCIM token, issued on its page in qgov."}],
            "meta": {"resourceType": "ServiceProviderConfig",
                     "location": request.build_absolute_uri(reverse("scim:config", args=[provider]))},
        })


class ResourceTypesView(ScimView):
    def get(self, request, provider):
        types = [{"schemas": [RESOURCE_TYPE_SCHEMA], "id": name, "name": name, "endpoint": f"/{name}s",
                  "schema": schema, "meta": {"resourceType": "ResourceType", "location": request.build_absolute_uri(
                      reverse("scim:resource_types", args=[provider])) + name}}
                 for name, schema in (("User", USER_SCHEMA), ("Group", GROUP_SCHEMA))]
        return Response(list_response(types, len(types), 1))


class SchemasView(ScimView):
    def get(self, request, provider):
        schemas = [{**schema, "schemas": [SCHEMA_SCHEMA], "meta": {"resourceType": "Schema", "location":
                    request.build_absolute_uri(reverse("scim:schemas", args=[provider])) + schema["id"]}}
                   for schema in SCHEMAS]
        return Response(list_response(schemas, len(schemas), 1))

