"""After the identity check: choose an offer, sign it, download the PDF, propose a counter-offer, rate the
service. Each through the portal's own views."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cases.models import CardAccount, CaseStatus
from compliance.models import ScreeningHit
from negotiation.models import FollowUpTask
from plans.models import Agreement, CounterOffer, Offer, OneTimeCode, PortalEvent, SurveyResponse
from tests.plans.portal_support import last_code, make_link, make_offer, plan_case, url, verify

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english_and_files(client, settings, tmp_path):
    settings.SMS_FILE_DIR = str(tmp_path / "sms")
    settings.MEDIA_ROOT = tmp_path / "media"
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"


@pytest.fixture
def case(team, collector):
    return plan_case(team=team, collector=collector)


@pytest.fixture
def offer(case, collector):
    return make_offer(case, created_by=collector)


@pytest.fixture
def portal(client, case, offer):
    """A verified session on a link of `case`: (link, token)."""
    link, token = make_link(case)
    verify(client, link, token)
    return link, token


def sign(client, link, token, offer, *, name="王芳", consent="on", code=None):
    if code is None:
        client.post(url("sign-code", token, offer.pk))
        code = last_code(link, OneTimeCode.Purpose.SIGN)
    data = {"signer_name": name, "code": code}
    if consent:
        data["consent"] = consent
    return client.post(url("sign", token, offer.pk), data)


# --- Offers ------------------------------------------------------------------------------------------


def test_the_offers_are_shown_as_cards_with_monthly_amount_months_total_and_waiver(client, portal, offer):
    _link, token = portal

    body = client.get(url("home", token)).content.decode()

    assert f'data-testid="offer-card-{offer.pk}"' in body
    assert "¥2,900.00" in body  # each month
    assert "¥8,700.00" in body  # total
    assert "<details>" in body


def test_accepting_an_offer_marks_it_accepted_records_it_and_opens_the_review(client, portal, offer):
    link, token = portal

    response = client.post(url("accept", token, offer.pk), HTTP_USER_AGENT="PhoneBrowser/1.0")

    assert response.status_code == 302
    assert response["Location"] == url("review", token, offer.pk)
    offer.refresh_from_db()
    assert offer.status == Offer.Status.ACCEPTED
    assert offer.accepted_at is not None
    event = PortalEvent.objects.get(kind=PortalEvent.Kind.ACCEPTED)
    assert (event.link_id, event.detail, event.user_agent) == (link.pk, {"offer": offer.pk}, "PhoneBrowser/1.0")
    review = client.get(url("review", token, offer.pk)).content.decode()
    assert 'data-testid="agreement-review"' in review
    assert "no new credit card" in review


def test_choosing_another_offer_puts_the_first_choice_back_among_the_offers(client, case, collector, portal, offer):
    _link, token = portal
    second = make_offer(case, created_by=collector, months=6)
    client.post(url("accept", token, offer.pk))

    client.post(url("accept", token, second.pk))

    offer.refresh_from_db()
    second.refresh_from_db()
    assert (offer.status, second.status) == (Offer.Status.OFFERED, Offer.Status.ACCEPTED)


def test_a_link_of_one_case_cannot_accept_the_offer_of_another(client, team, collector, portal):
    _link, token = portal
    other_case = plan_case(team=team, collector=collector, national_id="310101199001019876")
    other_offer = make_offer(other_case, created_by=collector)

    response = client.post(url("accept", token, other_offer.pk))

    assert response.status_code == 404
    other_offer.refresh_from_db()
    assert other_offer.status == Offer.Status.OFFERED
    assert not PortalEvent.objects.filter(kind=PortalEvent.Kind.ACCEPTED).exists()


def test_offers_are_not_shown_and_cannot_be_accepted_without_the_identity_check(client, case, offer):
    _link, token = make_link(case)

    response = client.post(url("accept", token, offer.pk))

    assert response.status_code == 302
    assert response["Location"] == url("home", token)
    offer.refresh_from_db()
    assert offer.status == Offer.Status.OFFERED


def test_a_withdrawn_offer_cannot_be_accepted(client, portal, offer):
    _link, token = portal
    Offer.objects.filter(pk=offer.pk).update(status=Offer.Status.WITHDRAWN)

    response = client.post(url("accept", token, offer.pk))

    assert response.status_code == 409
    assert "can no longer be chosen" in response.content.decode()


# --- Signing -----------------------------------------------------------------------------------------


def test_signing_makes_the_agreement_with_installments_and_moves_the_case_to_follow_up(client, case, portal, offer):
    link, token = portal
    client.post(url("accept", token, offer.pk))

    response = sign(client, link, token, offer)

    assert response.status_code == 302, response.content.decode()[:3000]
    agreement = Agreement.objects.get(offer=offer)
    assert agreement.installments.count() == 3
    case.refresh_from_db()
    assert case.status == CaseStatus.FOLLOW_UP
    assert PortalEvent.objects.filter(link=link, kind=PortalEvent.Kind.SIGNED).count() == 1
    page = client.get(url("home", token)).content.decode()
    assert 'data-testid="agreement"' in page
    assert 'data-testid="how-to-pay"' in page
    assert agreement.number in page


def test_the_signed_pdf_downloads_for_the_verified_session_and_is_recorded(client, portal, offer):
    link, token = portal
    client.post(url("accept", token, offer.pk))
    sign(client, link, token, offer)
    agreement = Agreement.objects.get(offer=offer)

    response = client.get(url("agreement-pdf", token, agreement.pk))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert PortalEvent.objects.filter(link=link, kind=PortalEvent.Kind.DOWNLOADED).count() == 1


def test_the_pdf_is_not_served_to_a_session_that_has_not_passed_the_identity_check(client, portal, offer, settings):
    link, token = portal
    client.post(url("accept", token, offer.pk))
    sign(client, link, token, offer)
    agreement = Agreement.objects.get(offer=offer)
    stranger = type(client)()

    response = stranger.get(url("agreement-pdf", token, agreement.pk))

    assert response.status_code == 302
    assert not PortalEvent.objects.filter(kind=PortalEvent.Kind.DOWNLOADED).exists()


def test_signing_twice_shows_that_the_plan_is_already_signed(client, portal, offer):
    link, token = portal
    client.post(url("accept", token, offer.pk))
    sign(client, link, token, offer)

    response = sign(client, link, token, offer, code="123456")

    assert response.status_code == 409
    assert "already been signed" in response.content.decode()
    assert Agreement.objects.count() == 1


def test_a_stale_offer_shows_that_the_balance_changed_and_nothing_is_signed(client, case, portal, offer):
    link, token = portal
    client.post(url("accept", token, offer.pk))
    CardAccount.objects.filter(pk=case.account_id).update(principal_overdue=Decimal("7000.00"))

    response = sign(client, link, token, offer)

    assert response.status_code == 409
    assert "balance has changed" in response.content.decode()
    assert not Agreement.objects.exists()
    offer.refresh_from_db()
    assert offer.status == Offer.Status.ACCEPTED


def test_a_name_that_is_not_the_cardholders_is_shown_as_the_reason(client, portal, offer):
    link, token = portal
    client.post(url("accept", token, offer.pk))

    response = sign(client, link, token, offer, name="李四")

    assert response.status_code == 400
    assert "exactly as the cardholder" in response.content.decode()
    assert not Agreement.objects.exists()


def test_signing_without_consent_is_refused_with_its_reason(client, portal, offer):
    link, token = portal
    client.post(url("accept", token, offer.pk))

    response = sign(client, link, token, offer, consent=None)

    assert response.status_code == 400
    assert "confirm that you agree" in response.content.decode()


def test_a_wrong_signing_code_is_shown_and_recorded(client, portal, offer):
    link, token = portal
    client.post(url("accept", token, offer.pk))
    client.post(url("sign-code", token, offer.pk))
    right = last_code(link, OneTimeCode.Purpose.SIGN)

    response = sign(client, link, token, offer, code="000000" if right != "000000" else "111111")

    assert response.status_code == 400
    assert "not correct" in response.content.decode()
    event = PortalEvent.objects.get(kind=PortalEvent.Kind.CODE_FAILED)
    assert event.detail == {"purpose": "sign", "error": "code_wrong"}
    assert not Agreement.objects.exists()


# --- Counter-offer -----------------------------------------------------------------------------------


def test_a_counter_offer_above_the_disposable_income_reaches_the_collector_as_a_flagged_task(
    client, case, collector, portal
):
    link, token = portal  # verified(case) gives a disposable income of 4000.00

    response = client.post(
        url("counter-offer", token), {"monthly_amount": "4500.00", "months_needed": "2", "reason": "收入下降"}
    )

    assert response.status_code == 302
    counter = CounterOffer.objects.get(case=case)
    assert (counter.monthly_amount, counter.months_needed, counter.affordable) == (Decimal("4500.00"), 2, False)
    task = FollowUpTask.objects.get(pk=counter.task_id)
    assert task.assigned_to == collector
    assert task.due_on == timezone.localdate()
    assert "4500.00" in task.note
    event = PortalEvent.objects.get(kind=PortalEvent.Kind.COUNTER_OFFER)
    assert event.detail["affordable"] is False


def test_a_counter_offer_within_the_disposable_income_is_marked_affordable(client, case, portal):
    _link, token = portal

    client.post(url("counter-offer", token), {"monthly_amount": "1500", "months_needed": "6", "reason": "可以每月还"})

    assert CounterOffer.objects.get(case=case).affordable is True


def test_a_counter_offer_reason_with_screened_words_is_kept_and_flagged(client, case, portal):
    _link, token = portal

    client.post(url("counter-offer", token), {"monthly_amount": "1500", "months_needed": "6", "reason": "你们是骗子"})

    assert CounterOffer.objects.filter(case=case).exists()
    hit = ScreeningHit.objects.get(case=case)
    assert hit.action == ScreeningHit.Action.FLAGGED
    assert hit.source_ref.startswith("counter_offer:")


def test_a_counter_offer_of_nothing_a_month_is_refused_and_nothing_is_created(client, portal):
    _link, token = portal

    response = client.post(url("counter-offer", token), {"monthly_amount": "0", "months_needed": "6", "reason": "x"})

    assert response.status_code == 400
    assert not CounterOffer.objects.exists()
    assert not FollowUpTask.objects.exists()


# --- Survey ------------------------------------------------------------------------------------------


def signed_agreement(client, link, token, offer) -> Agreement:
    client.post(url("accept", token, offer.pk))
    sign(client, link, token, offer)
    return Agreement.objects.get(offer=offer)


def test_the_survey_is_refused_while_the_agreement_is_in_force(client, portal, offer):
    link, token = portal
    signed_agreement(client, link, token, offer)

    response = client.post(url("survey", token), {"score": "5"})

    assert response.status_code == 409
    assert not SurveyResponse.objects.exists()
    assert 'data-testid="survey"' not in client.get(url("home", token)).content.decode()


def test_after_completion_the_survey_is_shown_and_answered_once(client, portal, offer):
    link, token = portal
    agreement = signed_agreement(client, link, token, offer)
    Agreement.objects.filter(pk=agreement.pk).update(status=Agreement.Status.COMPLETED, ended_at=timezone.now())
    assert 'data-testid="survey"' in client.get(url("home", token)).content.decode()

    first = client.post(url("survey", token), {"score": "4", "comment": "服务很好"})
    second = client.post(url("survey", token), {"score": "1"})

    assert first.status_code == 302
    assert second.status_code == 409
    survey = SurveyResponse.objects.get()
    assert (survey.score, survey.comment, survey.agreement_id) == (4, "服务很好", agreement.pk)
    assert PortalEvent.objects.filter(kind=PortalEvent.Kind.SURVEY).count() == 1
    assert 'data-testid="survey"' not in client.get(url("home", token)).content.decode()


def test_a_score_outside_one_to_five_is_refused(client, portal, offer):
    link, token = portal
    agreement = signed_agreement(client, link, token, offer)
    Agreement.objects.filter(pk=agreement.pk).update(status=Agreement.Status.COMPLETED, ended_at=timezone.now())

    response = client.post(url("survey", token), {"score": "6"})

    assert response.status_code == 400
    assert not SurveyResponse.objects.exists()


# --- Pages -------------------------------------------------------------------------------------------


def home_queries(client, token) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url("home", token)).status_code == 200
    return len(queries)


def test_the_portal_home_takes_the_same_number_of_queries_for_one_offer_or_five(client, case, collector, portal):
    _link, token = portal
    one = home_queries(client, token)
    for months in (4, 5, 6, 7):
        make_offer(case, created_by=collector, months=months)

    assert home_queries(client, token) == one


def test_the_agreement_page_takes_the_same_number_of_queries_for_few_or_many_installments(
    client, case, collector, portal
):
    link, token = portal
    few = make_offer(case, created_by=collector, months=2)
    signed_agreement(client, link, token, few)
    queries = home_queries(client, token)
    # The same page for a longer schedule on another case.
    other = plan_case(team=case.team, collector=collector, national_id="310101199001019876")
    many = make_offer(other, created_by=collector, months=24)
    other_link, other_token = make_link(other, token="other-" + "c" * 40)
    browser = type(client)()
    verify(browser, other_link, other_token)
    signed_agreement(browser, other_link, other_token, many)

    assert home_queries(browser, other_token) == queries


def test_the_cardholders_name_is_escaped_on_the_page(client, team, collector):
    case = plan_case(team=team, collector=collector, full_name="<script>alert(1)</script>")
    make_offer(case, created_by=collector)
    link, token = make_link(case)
    verify(client, link, token)

    body = client.get(url("home", token)).content.decode()

    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body


def test_the_review_states_the_interest_rate_of_the_plan_as_a_percentage(client, portal, offer):
    _link, token = portal
    Offer.objects.filter(pk=offer.pk).update(annual_rate=Decimal("0.072"))
    client.post(url("accept", token, offer.pk))

    body = client.get(url("review", token, offer.pk)).content.decode()

    assert "interest at 7.2% a year" in body
