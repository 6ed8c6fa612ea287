"""Choice and input widgets whose stock Django templates are written in Python: the same HTML,
without a template include per option or attribute list (a list sidebar of 40 threat vectors,
statuses and people took a fifth of a list page's time). The list views give them to their filter
forms (write_in_python); tests pin the HTML against Django's own templates."""

from django import forms
from django.forms.widgets import Input
from django.utils.formats import localize
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe


def _html(value) -> str:
    """As `{{ value }}` writes it in a template (localized, escaped unless safe)."""
    return conditional_escape(localize(value))


def _formatted(value) -> str:
    """As `{{ value|stringformat:'s' }}` writes it (a string; escaped unless it was safe)."""
    return conditional_escape(str(value) if isinstance(value, tuple) else value)


def _attrs_html(attrs) -> str:
    """django/forms/widgets/attrs.html, written in Python."""
    return "".join(f" {_html(name)}" if value is True else f' {_html(name)}="{_formatted(value)}"'
                   for name, value in attrs.items() if value is not False)


def _select_html(widget) -> str:
    """django/forms/widgets/select.html with select_option.html for each option (the files' final
    newlines inside included; the form renderer strips the outer ones)."""
    parts = [f'<select name="{_html(widget["name"])}"{_attrs_html(widget["attrs"])}>']
    for group_name, options, _index in widget["optgroups"]:
        if group_name:
            parts.append(f'\n  <optgroup label="{_html(group_name)}">')
        parts.extend(f'\n  <option value="{_formatted(option["value"])}"{_attrs_html(option["attrs"])}>'
                     f'{_html(option["label"])}</option>\n' for option in options)
        if group_name:
            parts.append("\n  </optgroup>")
    parts.append("\n</select>")
    return "".join(parts)


def _attribute(name, value) -> str:
    """` name="value"` when the value is given (`{% if value %} name="{{ value }}"{% endif %}`)."""
    return f' {name}="{_html(value)}"' if value else ""


def _checkboxes_html(widget) -> str:
    """django/forms/widgets/checkbox_select.html: multiple_input.html with input_option.html for each
    option (the files' final newlines inside included; the form renderer strips the outer ones)."""
    attrs = widget["attrs"]
    parts = [f'<div{_attribute("id", attrs.get("id"))}{_attribute("class", attrs.get("class"))}>']
    for group, options, _index in widget["optgroups"]:
        if group:
            parts.append(f"\n  <div><label>{_html(group)}</label>")
        for option in options:
            value = option["value"]
            value_html = f' value="{_formatted(value)}"' if value is not None else ""
            field = (f'<input type="{_html(option["type"])}" name="{_html(option["name"])}"{value_html}'
                     f'{_attrs_html(option["attrs"])}>\n')
            if option["wrap_label"]:
                field = f'<label{_attribute("for", option["attrs"].get("id"))}>{field} {_html(option["label"])}</label>'
            parts.append(f"<div>\n    {field}\n\n</div>")
        if group:
            parts.append("\n  </div>")
    parts.append("\n</div>")
    return "".join(parts)


def _input_html(widget) -> str:
    """django/forms/widgets/input.html (which text.html, number.html, date.html… include)."""
    value = widget["value"]
    value_html = f' value="{_formatted(value)}"' if value is not None else ""
    return (f'<input type="{_html(widget["type"])}" name="{_html(widget["name"])}"{value_html}'
            f'{_attrs_html(widget["attrs"])}>')


class _WrittenInPython:
    """A widget whose stock template is written in Python: the same HTML, without a template include
    per option or attribute list (a sidebar of 40 threat vectors, statuses and people took a fifth
    of a list page's time). Its second base is the stock class it stands in for."""

    write = None

    def render(self, name, value, attrs=None, renderer=None):
        return mark_safe(type(self).write(self.get_context(name, value, attrs)["widget"]))  # noqa: S308 — escaped


def _written_in_python(stock, write):
    # The stock class's name: templates tell widgets apart by it (BoundField.widget_type).
    return type(stock.__name__, (_WrittenInPython, stock), {"write": staticmethod(write), "__module__": __name__})


# Exactly these classes, with their stock templates: a subclass may render otherwise.
FAST_WIDGETS = {forms.Select: _written_in_python(forms.Select, _select_html),
                forms.SelectMultiple: _written_in_python(forms.SelectMultiple, _select_html),
                forms.CheckboxSelectMultiple: _written_in_python(forms.CheckboxSelectMultiple, _checkboxes_html)}
STOCK_TEMPLATES = {forms.Select: ("django/forms/widgets/select.html", "django/forms/widgets/select_option.html"),
                   forms.SelectMultiple: ("django/forms/widgets/select.html",
                                          "django/forms/widgets/select_option.html"),
                   forms.CheckboxSelectMultiple: ("django/forms/widgets/checkbox_select.html",
                                                  "django/forms/widgets/checkbox_option.html")}


# The stock input templates that are input.html and nothing else.
INPUT_TEMPLATES = frozenset(f"django/forms/widgets/{name}.html" for name in (
    "input", "text", "number", "date", "datetime", "time", "email", "url", "password", "hidden", "search", "tel",
    "color"))
_fast_inputs = {}


def _fast_input_class(kind):
    """The Python-written twin of an input widget class (the autocomplete picker's too: its context
    differs, not its template), made once per class; None for one that renders otherwise."""
    if kind not in _fast_inputs:
        stock = issubclass(kind, Input) and kind.render is forms.Widget.render and not issubclass(
            kind, _WrittenInPython)
        _fast_inputs[kind] = _written_in_python(kind, _input_html) if stock else None
    return _fast_inputs[kind]


def write_in_python(field) -> None:
    """Gives a form field's widget its Python-written twin when it renders the stock templates: choice
    widgets (FAST_WIDGETS) and inputs (INPUT_TEMPLATES)."""
    widget = field.widget
    kind = type(widget)
    if kind in FAST_WIDGETS:
        if (widget.template_name, widget.option_template_name) == STOCK_TEMPLATES[kind]:
            widget.__class__ = FAST_WIDGETS[kind]
    elif widget.template_name in INPUT_TEMPLATES:
        fast = _fast_input_class(kind)
        if fast is not None:
            widget.__class__ = fast
