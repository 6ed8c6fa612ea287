"""/scim/v2/<provider id>/…: the SCIM 2.0 service of each agency identity provider."""

from django.urls import path

from qgov.identity.scim import discovery, views

app_name = "scim"

urlpatterns = [
    path("<int:provider>/ServiceProviderConfig", discovery.ServiceProviderConfigView.as_view(), name="config"),
    path("<int:provider>/ResourceTypes", discovery.ResourceTypesView.as_view(), name="resource_types"),
    path("<int:provider>/Schemas", discovery.SchemasView.as_view(), name="schemas"),
    path("<int:provider>/Users", views.UserListView.as_view(), name="users"),
    path("<int:provider>/Users/<str:scim_id>", views.UserView.as_view(), name="user"),
    path("<int:provider>/Groups", views.GroupListView.as_view(), name="groups"),
    path("<int:provider>/Groups/<str:scim_id>", views.GroupView.as_view(), name="group"),
]
