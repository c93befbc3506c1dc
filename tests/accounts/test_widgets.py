"""Shared form widgets."""

from datetime import date, datetime

from django.utils import translation

from config.widgets import IsoDateInput, IsoDateTimeInput


def test_a_date_input_renders_an_iso_date_in_chinese_so_the_browser_can_show_it():
    with translation.override("zh-hans"):
        html = IsoDateInput().render("due_on", date(2026, 12, 29))

    assert 'type="date"' in html and 'value="2026-12-29"' in html


def test_a_datetime_input_renders_the_iso_local_form():
    with translation.override("zh-hans"):
        html = IsoDateTimeInput().render("planned_at", datetime(2026, 12, 29, 9, 30))

    assert 'type="datetime-local"' in html and 'value="2026-12-29T09:30"' in html
