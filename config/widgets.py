"""Form widgets every app shares.

A browser's date and datetime-local inputs take only ISO values; Django would otherwise render the active
language's format (2026/12/29 in zh-hans) and the browser would show the field empty."""

from django import forms


class IsoDateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class IsoDateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%dT%H:%M")
