"""Plain Django forms shown in the admin frame get the admin theme's (django-unfold's) control styles,
the same ones its ModelAdmin forms get, so a custom page looks like the rest of the portal."""

from __future__ import annotations

from django import forms
from unfold import widgets as theme

_CLASSES: list[tuple[type[forms.Widget], list[str]]] = [
    # Most specific first: CheckboxSelectMultiple is a SelectMultiple, RadioSelect a Select.
    (forms.CheckboxSelectMultiple, theme.CHECKBOX_CLASSES),
    (forms.RadioSelect, theme.RADIO_CLASSES),
    (forms.CheckboxInput, theme.CHECKBOX_CLASSES),
    (forms.Textarea, theme.TEXTAREA_CLASSES),
    (forms.Select, theme.SELECT_CLASSES),
    (forms.FileInput, theme.FILE_CLASSES),
    (forms.HiddenInput, []),
    (forms.widgets.Input, theme.INPUT_CLASSES),
]


def theme_widget(widget: forms.Widget) -> None:
    if type(widget).__module__.startswith("unfold."):
        return  # the theme's own widgets style themselves
    for widget_class, classes in _CLASSES:
        if isinstance(widget, widget_class):
            existing = widget.attrs.get("class", "")
            widget.attrs["class"] = " ".join([existing, *classes]).strip()
            return


class ThemedForm(forms.Form):
    """A form whose controls carry the admin theme's classes."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            theme_widget(field.widget)
