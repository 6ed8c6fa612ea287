import re

from django.urls import URLResolver, path
from django.urls.resolvers import RegexPattern
from django.utils.functional import cached_property

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


# The literal first segment of a route pattern such as DRF's routers write: ^devices/…, ^devices\.(?P<format>…
_LITERAL_FIRST_SEGMENT = re.compile(r"\^([A-Za-z0-9_-]+)(?:/|\\\.|\$)")
_SEGMENT = re.compile(r"[A-Za-z0-9_-]*")


class FirstSegmentResolver(URLResolver):
    """A URLResolver of many patterns that begin with a literal segment (a DRF router's: ^devices/$,
    ^devices/(?P<pk>[^/.]+)/$, …) that tries only the patterns a path can match: those of its first
    segment and those with no literal one, in their order. A path's first segment, as the run of
    [A-Za-z0-9_-] it starts with, must equal a pattern's literal for the pattern to match (the
    literal is followed by /, . or the end, none of which the run holds), so the others are skipped
    unread: the list of an app registered late came after 300 other API patterns, 0.25–0.5 ms a
    request. Reversing, the schema and everything else read url_patterns as they are."""

    def resolve(self, path):
        path = str(path)
        match = self.pattern.match(path)
        if not match:
            return super().resolve(path)
        by_segment, unindexed = self._narrowed
        segment = _SEGMENT.match(match[0]).group()
        return by_segment.get(segment, unindexed).resolve(path)

    @cached_property
    def _narrowed(self):
        literals = []
        for pattern in self.url_patterns:
            found = (_LITERAL_FIRST_SEGMENT.match(pattern.pattern._regex)
                     if isinstance(pattern.pattern, RegexPattern) else None)
            literals.append(found.group(1) if found else None)

        def resolver(patterns):
            return URLResolver(self.pattern, patterns, self.default_kwargs, self.app_name, self.namespace)

        by_segment = {
            segment: resolver([pattern for pattern, literal in zip(self.url_patterns, literals, strict=True)
                               if literal in (segment, None)])
            for segment in set(literals) - {None}}
        unindexed = resolver([pattern for pattern, literal in zip(self.url_patterns, literals, strict=True)
                              if literal is None])
        return by_segment, unindexed
