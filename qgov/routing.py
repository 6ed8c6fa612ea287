from django.urls import path


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
    return routes
