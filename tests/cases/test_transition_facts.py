"""The record cannot lie: a case is signed only by signing, completed only when everything is paid, and breached
by a person only after a missed installment, with a reason; the API and the case page offer nothing else."""

from unittest import mock

import pytest
from django.urls import reverse

from cases.models import Case, CaseStatus
from compliance.models import Hold
from plans.agreements import agreement_sign
from plans.codes import code_send
from plans.models import Agreement, Installment, OneTimeCode
from tests.plans.signing_setup import DAYTIME, Clock, ensure_code_template, link_for, offer_for, plan_case, sent_code

pytestmark = pytest.mark.django_db
REASON = "Cardholder said in writing they will not pay again."


@pytest.fixture(autouse=True)
def private_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.SMS_GATEWAY = "negotiation.gateways.FileSmsGateway"
    settings.SMS_FILE_DIR = str(tmp_path / "sms")


@pytest.fixture
def clock():
    clock = Clock(DAYTIME)
    with mock.patch("django.utils.timezone.now", side_effect=clock):
        yield clock


@pytest.fixture
def case(team, collector, supervisor):
    ensure_code_template()
    case = plan_case()
    Case.objects.filter(pk=case.pk).update(team=team, assigned_to=collector)
    case.refresh_from_db()
    return case


@pytest.fixture
def signed_case(case, clock):
    """Right after the cardholder signed a 24-month agreement in the portal."""
    offer = offer_for(case, months=24)
    link = link_for(case)
    code = sent_code(code_send(link_id=link.pk, purpose=OneTimeCode.Purpose.SIGN))
    agreement_sign(offer_id=offer.pk, link_id=link.pk, signer_name="王芳", consent=True, code=code, ip=None,
                   user_agent="test")
    case.refresh_from_db()
    assert case.status == CaseStatus.FOLLOW_UP
    return case


def _miss_one(case) -> Agreement:
    agreement = case.agreements.get(status=Agreement.Status.IN_FORCE)
    agreement.installments.filter(number=1).update(status=Installment.Status.MISSED)
    Agreement.objects.filter(pk=agreement.pk).update(missed_count=1)
    return agreement


def _transition(api, user, case, name, reason=""):
    return api(user).post(f"/api/v1/cases/{case.pk}/transitions/", {"name": name, "reason": reason}, format="json")


@pytest.mark.parametrize("role", ["collector", "supervisor"])
def test_nobody_records_a_signed_agreement_by_hand_on_a_plan_case_without_one(role, case, collector, supervisor, api):
    user = {"collector": collector, "supervisor": supervisor}[role]

    response = _transition(api, user, case, "sign_agreement", REASON)

    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "guard_failed"
    assert [guard["code"] for guard in body["details"]] == ["agreement_not_signed"]
    case.refresh_from_db()
    assert case.status == CaseStatus.PLAN
    assert not case.transitions.exists()


@pytest.mark.parametrize("role", ["collector", "supervisor"])
def test_a_plan_case_offers_no_signing_step_to_staff(role, case, collector, supervisor, api):
    user = {"collector": collector, "supervisor": supervisor}[role]

    available = api(user).get(f"/api/v1/cases/{case.pk}/").json()["available_transitions"]

    assert "sign_agreement" not in available
    assert "start_follow_up" not in available


@pytest.mark.parametrize("role", ["collector", "supervisor"])
def test_a_kept_agreement_with_nothing_missed_offers_neither_complete_nor_breach(
    role, signed_case, collector, supervisor, api, as_user
):
    user = {"collector": collector, "supervisor": supervisor}[role]

    available = api(user).get(f"/api/v1/cases/{signed_case.pk}/").json()["available_transitions"]
    page = as_user(user).get(reverse("cases:detail", args=[signed_case.pk])).content.decode()

    assert "complete" not in available and "breach" not in available
    assert 'value="complete"' not in page and 'value="breach"' not in page


@pytest.mark.parametrize("role", ["collector", "supervisor"])
def test_staff_asking_to_complete_a_case_with_unpaid_installments_get_409(
    role, signed_case, collector, supervisor, api
):
    user = {"collector": collector, "supervisor": supervisor}[role]

    response = _transition(api, user, signed_case, "complete", REASON)

    assert response.status_code == 409
    assert [guard["code"] for guard in response.json()["details"]] == ["installments_not_all_paid"]
    signed_case.refresh_from_db()
    assert signed_case.status == CaseStatus.FOLLOW_UP
    assert signed_case.agreements.get().status == Agreement.Status.IN_FORCE


def test_a_supervisor_may_not_breach_a_kept_agreement(signed_case, supervisor, api):
    response = _transition(api, supervisor, signed_case, "breach", REASON)

    assert response.status_code == 409
    assert [guard["code"] for guard in response.json()["details"]] == ["no_installment_missed"]
    signed_case.refresh_from_db()
    assert signed_case.status == CaseStatus.FOLLOW_UP


def test_a_supervisor_breaches_with_a_reason_after_a_missed_installment_and_the_agreement_ends_too(
    signed_case, supervisor, api, as_user
):
    agreement = _miss_one(signed_case)
    page = as_user(supervisor).get(reverse("cases:detail", args=[signed_case.pk])).content.decode()
    assert 'value="breach"' in page
    assert "breach" in api(supervisor).get(f"/api/v1/cases/{signed_case.pk}/").json()["available_transitions"]

    response = _transition(api, supervisor, signed_case, "breach", REASON)

    assert response.status_code == 200, response.json()
    assert response.json()["status"] == CaseStatus.BROKEN
    agreement.refresh_from_db()
    assert agreement.status == Agreement.Status.BREACHED
    step = signed_case.transitions.first()
    assert (step.name, step.actor, step.reason) == ("breach", supervisor, REASON)
    assert not Hold.objects.filter(
        case=signed_case, kind=Hold.Kind.AGREEMENT_IN_FORCE, lifted_at__isnull=True
    ).exists()


def test_a_supervisor_breach_needs_a_reason(signed_case, supervisor, api):
    _miss_one(signed_case)

    response = _transition(api, supervisor, signed_case, "breach", "")

    assert response.status_code == 400
    assert response.json()["code"] == "reason_required"
    signed_case.refresh_from_db()
    assert signed_case.status == CaseStatus.FOLLOW_UP
    assert signed_case.agreements.get().status == Agreement.Status.IN_FORCE


def test_a_collector_may_not_breach_even_after_a_miss(signed_case, collector, api):
    _miss_one(signed_case)

    assert "breach" not in api(collector).get(f"/api/v1/cases/{signed_case.pk}/").json()["available_transitions"]
    response = _transition(api, collector, signed_case, "breach", REASON)

    assert response.status_code == 403
    signed_case.refresh_from_db()
    assert signed_case.status == CaseStatus.FOLLOW_UP


def test_a_supervisor_may_not_close_a_case_while_its_agreement_is_in_force(signed_case, supervisor, api):
    response = _transition(api, supervisor, signed_case, "close", REASON)

    assert response.status_code == 409
    assert [guard["code"] for guard in response.json()["details"]] == ["agreement_in_force"]
