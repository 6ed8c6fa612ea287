"""Panels one app adds to another app's detail pages. An app that links its records to another
app's (components to the devices and assets they sit in, say) shows them on that app's pages
without the other app knowing of it: it declares a `DetailPanel` for the model in its QgovApp
(qgov.registry), and the generic detail page (ObjectDetailView, templates/qgov/object_detail.html)
renders every panel registered for the record's model in its side column. The owning app imports
nothing of the app that adds the panel."""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class DetailPanel:
    model: str  # the label of the model whose pages show it, "app_label.ModelName"
    title: str
    template: str  # rendered with `record` (the page's record) and `ctx` (what `context` returned)
    # (request, record) -> dict, or None when the panel has nothing for this user (their role does
    # not show the app's records). It should cost a fixed number of queries, whatever the numbers.
    context: Callable
    order: int = 100


_panels: list[DetailPanel] = []


def _label(model) -> str:
    return model if isinstance(model, str) else model._meta.label


def register(panel: DetailPanel) -> DetailPanel:
    _panels.append(panel)
    return panel


def unregister(panel: DetailPanel) -> None:
    _panels.remove(panel)


def panels_for(request, record) -> list[tuple[DetailPanel, dict]]:
    """(panel, its context) of each panel registered for the record's model, in order; a panel
    whose context is None is left out."""
    label = type(record)._meta.label.lower()
    shown = []
    for panel in sorted(_panels, key=lambda p: p.order):
        if _label(panel.model).lower() != label:
            continue
        context = panel.context(request, record)
        if context is not None:
            shown.append((panel, context))
    return shown
