"""Message templates: screened when saved, rendered as plain text; the collection notice they carry."""

from datetime import datetime, timedelta
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from cases.models import Case
from compliance.models import ScreeningHit
from compliance.services import ScreeningBlocked
from negotiation.models import MessageTemplate, OutboundMessage
from negotiation.rendering import VALUE_MAX, TemplateProblem, render_plain
from negotiation.services import collection_notices_send, message_send_template, message_template_update
from tests.factories import CaseFactory, DebtorFactory, case_in

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture(autouse=True)
def sms_folder(settings, tmp_path):
    settings.SMS_GATEWAY = "negotiation.gateways.FileSmsGateway"
    settings.SMS_FILE_DIR = str(tmp_path / "sms")
    settings.BANK_PHONE = "400-820-0000"


def at_shanghai(hhmm: str, day: int = 3) -> datetime:
    hour, minute = map(int, hhmm.split(":"))
    return datetime(2026, 12, day, hour, minute, tzinfo=SHANGHAI)


def notice_sms(case):
    return OutboundMessage.objects.get(idempotency_key=f"notice-{case.pk}")


def opened(team, when, **debtor):
    case = CaseFactory(team=team, account__debtor=DebtorFactory(email="", **debtor))
    Case.objects.filter(pk=case.pk).update(opened_at=when)
    return case


# --- Rendering -------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["<script>alert(1)</script>", "{{ bank_phone }}", "{% now 'Y' %}"])
def test_a_value_is_inserted_literally_and_never_evaluated(name):
    assert render_plain("您好 {{ name }}。", {"name": name}) == f"您好 {name}。"


def test_control_characters_are_removed_and_long_values_cut():
    text = render_plain("[{{ name }}]", {"name": "王\x00芳\x1b" + "x" * 200})

    assert text == "[王芳" + "x" * (VALUE_MAX - 2) + "]"


@pytest.mark.parametrize("body", ["{{ settings.SECRET_KEY }}", "{{ name|upper }}", "{% load static %}"])
def test_a_template_with_anything_but_the_known_placeholders_is_refused(body):
    with pytest.raises(TemplateProblem):
        render_plain(body, {})


# --- Editing ---------------------------------------------------------------------------------------


def test_the_shipped_templates_cover_the_notice_in_both_languages_and_a_reminder():
    shipped = set(MessageTemplate.objects.values_list("code", "channel", "language"))

    assert {("collection_notice", "sms", "zh-hans"), ("collection_notice", "sms", "en"),
            ("collection_notice", "email", "zh-hans"), ("payment_reminder", "sms", "zh-hans")} <= shipped


def test_a_template_with_a_threat_is_refused_on_save_and_the_hit_is_kept(supervisor):
    template = MessageTemplate.objects.get(code="collection_notice", channel="sms", language="zh-hans")

    with pytest.raises(ScreeningBlocked):
        message_template_update(
            template_id=template.pk, actor=supervisor, subject="", body="{{ name }}，再不还钱让你好看", active=True
        )

    template.refresh_from_db()
    assert "让你好看" not in template.body
    assert ScreeningHit.objects.filter(source=ScreeningHit.Source.TEMPLATE, action="blocked").count() == 1


def test_the_template_page_shows_a_screened_word_as_a_form_error(client, supervisor):
    client.force_login(supervisor)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    template = MessageTemplate.objects.get(code="payment_reminder", channel="sms", language="zh-hans")

    response = client.post(
        reverse("negotiation:template-edit", args=[template.pk]), {"body": "你等着瞧 {{ name }}", "active": "on"}
    )

    assert response.status_code == 400
    assert 'data-testid="template-refused"' in response.content.decode()


def test_a_supervisor_saves_a_clean_template(supervisor):
    template = MessageTemplate.objects.get(code="payment_reminder", channel="sms", language="en")

    message_template_update(
        template_id=template.pk, actor=supervisor, subject="", body="Dear {{ name }}, call {{ bank_phone }}.",
        active=True,
    )

    template.refresh_from_db()
    assert template.updated_by == supervisor and template.body.startswith("Dear")


# --- Sending ---------------------------------------------------------------------------------------


def test_a_template_is_sent_in_the_cardholders_language_with_the_banks_phone(team):
    case = CaseFactory(team=team, account__debtor__preferred_language="en", account__debtor__full_name="<b>Li</b>")

    with mock.patch("django.utils.timezone.now", return_value=at_shanghai("10:00")):
        message = message_send_template(case_id=case.pk, code="collection_notice", actor=None, idempotency_key="k1")

    assert message.body.startswith("Collection notice: Dear <b>Li</b>,")
    assert "400-820-0000" in message.body


def test_the_notice_task_queues_one_notice_per_new_notify_case_and_a_rerun_queues_none(
    team, django_capture_on_commit_callbacks
):
    now = at_shanghai("10:00")
    new = [opened(team, now - timedelta(hours=1)) for _ in range(2)]
    moved_on = case_in("first_contact", team=team)
    Case.objects.filter(pk=moved_on.pk).update(opened_at=now - timedelta(hours=1))
    old = opened(team, now - timedelta(days=10))

    with mock.patch("django.utils.timezone.now", return_value=now):
        with django_capture_on_commit_callbacks(execute=True):
            first = collection_notices_send()
        again = collection_notices_send()

    assert len(first) == 2 and again == []
    assert {m.case_id for m in OutboundMessage.objects.all()} == {case.pk for case in new}
    assert not OutboundMessage.objects.filter(case__in=[moved_on, old]).exists()
    assert all(m.status == OutboundMessage.Status.SENT for m in OutboundMessage.objects.all())


def test_a_case_whose_notice_key_is_taken_gets_no_other_notice(team):
    now = at_shanghai("10:00")
    case = opened(team, now - timedelta(hours=1))
    OutboundMessage.objects.create(
        case=case, channel="sms", purpose="collection", recipient="1", body="sent by hand",
        idempotency_key=f"notice-{case.pk}",
    )

    with mock.patch("django.utils.timezone.now", return_value=now):
        assert collection_notices_send() == []


def test_a_case_opened_at_eleven_at_night_gets_its_notice_held_until_eight(team, django_capture_on_commit_callbacks):
    night = at_shanghai("23:00")
    case = opened(team, night)

    with mock.patch("django.utils.timezone.now", return_value=night), django_capture_on_commit_callbacks(execute=True):
        collection_notices_send()

    message = notice_sms(case)
    assert message.status == OutboundMessage.Status.SCHEDULED
    assert message.scheduled_for == at_shanghai("08:00", day=4)


def test_the_notice_goes_by_email_too_when_the_cardholder_has_an_address(team):
    now = at_shanghai("10:00")
    case = CaseFactory(team=team, account__debtor__email="wang@example.com")
    Case.objects.filter(pk=case.pk).update(opened_at=now)

    with mock.patch("django.utils.timezone.now", return_value=now):
        collection_notices_send()

    channels = set(OutboundMessage.objects.filter(case=case).values_list("channel", flat=True))
    assert channels == {"sms", "email"}


def test_an_email_only_notice_is_not_queued_again_on_the_next_run(team, django_capture_on_commit_callbacks):
    now = at_shanghai("10:00")
    case = CaseFactory(team=team, classification="mid", account__debtor__email="li@example.com")
    Case.objects.filter(pk=case.pk).update(opened_at=now)

    with mock.patch("django.utils.timezone.now", return_value=now):
        first = collection_notices_send()
        again = collection_notices_send()

    assert len(first) == 1 and again == []
    assert OutboundMessage.objects.get(case=case).idempotency_key == f"notice-{case.pk}-email"


def test_a_supervisor_sees_the_template_list(client, supervisor):
    client.force_login(supervisor)

    response = client.get(reverse("negotiation:templates"))

    assert response.status_code == 200
    assert "collection_notice" in response.content.decode()


def test_the_template_page_shows_the_placeholders_literally(client, supervisor):
    from negotiation.models import MessageTemplate

    template = MessageTemplate.objects.first()
    client.force_login(supervisor)
    body = client.get(f"/negotiation/templates/{template.pk}/").content.decode()
    assert "{{ name }}" in body and "{{ case_number }}" in body
