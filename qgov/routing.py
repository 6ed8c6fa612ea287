from django.urls import path

from qgov.lifecycle import lifecycle_of


def object_urls(prefix: str, model, *, list_view, detail_view, edit_view=None, delete_view=None, history_view=None):
    """The standard routes of one model: <model>_list, _add, _detail, _edit, _delete, _history."""
    name = model._meta.model_name
    routes = [
        path(f"{prefix}/", list_view.as_view(), name=f"{name}_list"),
        path(f"{prefix}/<int:pk>/", detail_view.as_view(), name=f"{name}_detail"),
    ]
    if edit_view is not None:
        routes += [
            path(f"{prefix}/add/", edit_view.as_view(), name=f"{name}_add"),
            path(f"{prefix}/<int:pk>/edit/", edit_view.as_view(), name=f"{name}_edit"),
        ]
    if delete_view is not None:
        routes.append(path(f"{prefix}/<int:pk>/delete/", delete_view.as_view(), name=f"{name}_delete"))
    if history_view is not None:
        routes.append(path(f"{prefix}/<int:pk>/history/", history_view.as_view(), name=f"{name}_history"))
    if lifecycle_of(model) is not None:
        from qgov.views.generic import ObjectTransitionView

        # Last, so that edit/, delete/ and history/ keep their own views.
        routes.append(path(f"{prefix}/<int:pk>/<slug:transition>/",
                           ObjectTransitionView.as_view(queryset=model.objects.all()), name=f"{name}_transition"))
    return routes


def model_urls(prefix: str, model, views_module):
    """object_urls with the views named by convention (<Model>ListView, …) in `views_module`;
    the naming-convention test guards that they exist."""
    name = model.__name__

    def view(kind):
        return getattr(views_module, f"{name}{kind}View", None)

    return object_urls(prefix, model, list_view=view("List"), detail_view=view("Detail"), edit_view=view("Edit"),
                       delete_view=view("Delete"), history_view=view("History"))
