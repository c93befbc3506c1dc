"""The staff plan builder on the case page: the live schedule, saving, suggestions, withdrawing."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from cases.models import CaseStatus
from plans.models import Offer
from tests.factories import UserFactory, case_in, verified

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true", "HTTP_ACCEPT_LANGUAGE": "en"}


def form_data(**overrides) -> dict:
    base = {
        "kind": "installments",
        "method": "annuity",
        "months": "12",
        "first_due_date": (timezone.localdate() + timedelta(days=30)).isoformat(),
        "annual_rate": "0",
        "monthly_fee_rate": "0",
        "interest_waiver_pct": "0",
        "fee_waiver_pct": "0",
        "grace_months": "0",
        "new_limit": "",
        "new_limit_expires_on": "",
        "affordability_override": "",
    }
    return {**base, **overrides}


@pytest.fixture
def case(team):
    case = case_in(CaseStatus.VERIFICATION, team=team)
    verified(case)
    return case


@pytest.fixture
def logged_in(client, collector):
    client.force_login(collector)
    return client


def test_the_case_page_has_a_plan_builder_tab(case, logged_in):
    page = logged_in.get(reverse("cases:detail", args=[case.pk]), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'id="tab-plans"' in page
    assert reverse("plans:builder", args=[case.pk]) in page


def test_the_preview_renders_the_schedule_with_yuan_amounts(case, logged_in):
    response = logged_in.post(reverse("plans:builder-preview", args=[case.pk]), form_data(), **HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count("<tr>") == 13  # the head and twelve installments
    assert "¥8,700.00" in html and "¥725.00" in html
    assert 'data-testid="warning-unaffordable"' not in html
    assert 'data-testid="warning-approval"' not in html


def test_the_preview_warns_when_the_installment_is_above_the_disposable_income(case, logged_in):
    html = logged_in.post(reverse("plans:builder-preview", args=[case.pk]), form_data(months="2"), **HTMX)
    assert 'data-testid="warning-unaffordable"' in html.content.decode()


def test_the_preview_warns_when_approval_will_be_needed(case, logged_in):
    response = logged_in.post(
        reverse("plans:builder-preview", args=[case.pk]), form_data(interest_waiver_pct="60"), **HTMX
    )
    assert 'data-code="interest_waiver_over_authority"' in response.content.decode()


def test_the_preview_names_a_refused_term_and_stores_nothing(case, logged_in):
    response = logged_in.post(
        reverse("plans:builder-preview", args=[case.pk]), form_data(method="flat_fee", annual_rate="10"), **HTMX
    )
    assert response.status_code == 200
    assert 'data-testid="preview-problem"' in response.content.decode()
    assert not Offer.objects.exists()


def test_the_builder_opens_with_a_schedule_and_suggestions(case, logged_in):
    response = logged_in.get(reverse("plans:builder", args=[case.pk]), **HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="schedule"' in html
    assert 'data-testid="suggestion-annuity"' in html


def test_a_suggestion_fills_the_form(case, logged_in):
    response = logged_in.get(reverse("plans:builder", args=[case.pk]), **HTMX)
    suggestion = next(s for s in response.context["suggestions"] if s.code == "flat_fee")
    filled = logged_in.get(reverse("plans:builder", args=[case.pk]), suggestion.as_params(), **HTMX)
    form = filled.context["form"]
    assert form.is_valid(), form.errors
    assert form.cleaned_data["months"] == suggestion.terms.months
    assert form.cleaned_data["monthly_fee_rate"] == suggestion.terms.monthly_fee_rate
    assert filled.context["schedule"].largest_installment == suggestion.largest_installment


def test_saving_an_offer_moves_the_case_to_plan_and_lists_it(case, logged_in):
    response = logged_in.post(reverse("plans:offer-create", args=[case.pk]), form_data(annual_rate="12"), **HTMX)
    assert response.status_code == 200
    offer = Offer.objects.get()
    assert offer.annual_rate * 100 == 12
    assert f'data-testid="offer-{offer.pk}"' in response.content.decode()
    case.refresh_from_db()
    assert case.status == CaseStatus.PLAN


def test_saving_a_refused_offer_shows_why_and_stores_nothing(team, logged_in):
    case = case_in(CaseStatus.NOTIFY, team=team)
    response = logged_in.post(reverse("plans:offer-create", args=[case.pk]), form_data(), **HTMX)
    assert response.status_code == 409
    assert 'data-testid="builder-refused"' in response.content.decode()
    assert not Offer.objects.exists()


def test_an_invalid_form_is_a_400_with_the_form_errors(case, logged_in):
    response = logged_in.post(reverse("plans:offer-create", args=[case.pk]), form_data(months="61"), **HTMX)
    assert response.status_code == 400
    assert "months" in response.context["form"].errors


def test_withdrawing_from_the_builder(case, logged_in):
    logged_in.post(reverse("plans:offer-create", args=[case.pk]), form_data(), **HTMX)
    offer = Offer.objects.get()
    response = logged_in.post(reverse("plans:offer-withdraw", args=[offer.pk]), {"reason": "Replaced."}, **HTMX)
    assert response.status_code == 200
    offer.refresh_from_db()
    assert offer.status == Offer.Status.WITHDRAWN


def test_the_builder_includes_the_send_link_template(case, logged_in):
    response = logged_in.get(reverse("plans:builder", args=[case.pk]), **HTMX)
    assert "plans/_send_link.html" in [template.name for template in response.templates]


def test_a_case_of_another_team_is_404_through_every_builder_url(other_team, client, collector):
    case = case_in(CaseStatus.VERIFICATION, team=other_team)
    verified(case)
    maker = UserFactory(role="collector", team=other_team)
    client.force_login(maker)
    client.post(reverse("plans:offer-create", args=[case.pk]), form_data(), **HTMX)
    offer = Offer.objects.get()
    client.force_login(collector)
    assert client.get(reverse("plans:builder", args=[case.pk])).status_code == 404
    assert client.post(reverse("plans:builder-preview", args=[case.pk]), form_data()).status_code == 404
    assert client.post(reverse("plans:offer-create", args=[case.pk]), form_data()).status_code == 404
    assert client.post(reverse("plans:offer-withdraw", args=[offer.pk]), {"reason": "x"}).status_code == 404
    offer.refresh_from_db()
    assert offer.status == Offer.Status.READY


def test_a_compliance_officer_sees_the_preview_but_no_save_or_withdraw(case, client, collector, compliance_officer):
    client.force_login(collector)
    client.post(reverse("plans:offer-create", args=[case.pk]), form_data(), **HTMX)
    client.force_login(compliance_officer)
    html = client.get(reverse("plans:builder", args=[case.pk]), **HTMX).content.decode()
    assert 'data-testid="schedule"' in html
    assert 'data-testid="save-offer"' not in html
    assert "offer-withdraw" not in html
