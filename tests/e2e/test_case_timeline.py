"""A collector narrows the case timeline to one kind of event and pages through it, in the browser (htmx)."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from cases.services import case_transition
from compliance.models import Hold
from compliance.services import hold_set
from negotiation.models import Contact
from reporting.timeline import PAGE_SIZE
from tests.conftest import login
from tests.factories import case_in


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_collector_filters_the_timeline_by_kind_and_shows_more(page, collector, team, screenshots_dir):
    case = case_in("notify", team=team, assigned_to=collector)
    now = timezone.now()
    Contact.objects.bulk_create(
        Contact(case=case, channel="phone", outcome="no_answer", at=now - timedelta(minutes=n), recorded_by=collector)
        for n in range(PAGE_SIZE + 3)
    )
    hold_set(case_id=case.pk, kind=Hold.Kind.DISPUTE, reason="持卡人对年费有异议", actor=collector)
    case_transition(case_id=case.pk, name="record_first_contact", actor=collector, reason="接通本人")

    login(page, "collector")
    page.wait_for_url(re.compile(r"/cases/$"))
    page.goto(f"{page.base_url}/cases/{case.pk}/")
    items = page.locator("#case-timeline ol.timeline > li")
    assert items.count() == PAGE_SIZE

    page.locator("#case-timeline [data-testid=timeline-more]").click()
    page.wait_for_function(
        f"() => document.querySelectorAll('#case-timeline ol.timeline > li').length === {PAGE_SIZE + 5}"
    )

    page.select_option("#timeline-kind", "hold")
    page.wait_for_function("() => document.querySelectorAll('#case-timeline ol.timeline > li').length === 1")
    assert "持卡人对年费有异议" in page.locator("#case-timeline").inner_text()
    assert page.locator("#case-timeline li[data-kind=hold]").count() == 1
    assert page.url.endswith(f"/cases/{case.pk}/")  # swapped in place, no reload
    page.screenshot(path=str(screenshots_dir / "case_timeline_holds.png"), full_page=True)
