"""No live portal secret outside the cardholder's phone: a link or a code is stored masked, sealed in clear only
until the gateway has it, and no staff page, API answer, export or log line shows a usable one."""

import io
import json
import logging
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.conf import settings as django_settings
from django.urls import reverse
from gunicorn.config import Config
from openpyxl import load_workbook

from compliance.masking import PersonalDataLogFilter
from config.gunicorn_logging import MaskingLogger
from negotiation.models import OutboundMessage
from negotiation.sealing import SealBroken, outbox_mask_stored, outbox_unmask_unsent, seal, unseal
from negotiation.services import message_clear_text, message_queue, message_send
from plans.codes import code_send
from plans.models import OneTimeCode
from plans.portal import portal_link_issue
from reporting.tables import DASHBOARD_TABLES
from tests.factories import CaseFactory
from tests.plans.portal_support import last_code, make_offer, plan_case, url, zone_where_it_is_midday
from tests.plans.signing_setup import other_than, sent_code

pytestmark = pytest.mark.django_db
STAFF = ["collector", "supervisor", "compliance_officer", "admin_user_"]


@pytest.fixture(autouse=True)
def _files(settings, tmp_path):
    settings.SMS_GATEWAY = "negotiation.gateways.FileSmsGateway"
    settings.SMS_FILE_DIR = str(tmp_path / "sms")
    settings.PORTAL_BASE_URL = "https://portal.example.cn"


@pytest.fixture
def log_output():
    """What the configured console handler (the one with the masking filter) writes."""
    handler = next(
        handler for handler in logging.getLogger().handlers
        if any(isinstance(found, PersonalDataLogFilter) for found in handler.filters)
    )
    stream = io.StringIO()
    previous = handler.setStream(stream)
    try:
        yield stream
    finally:
        handler.setStream(previous)


def sms_text(message: OutboundMessage) -> str:
    return json.loads((Path(django_settings.SMS_FILE_DIR) / f"{message.idempotency_key}.json").read_text())["text"]


@pytest.fixture
def sent(team, collector, client, django_capture_on_commit_callbacks, log_output):
    """A portal link and an identity code, both sent, and the cardholder's first steps in the portal."""
    case = plan_case(team=team, collector=collector)
    make_offer(case, created_by=collector)
    with django_capture_on_commit_callbacks(execute=True):
        link, token = portal_link_issue(case_id=case.pk, actor=collector)
    client.get(url("home", token))
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url("identity", token), {"last_four": "123X"})
    otp = OneTimeCode.objects.get(link=link, purpose=OneTimeCode.Purpose.IDENTITY)
    code = sent_code(otp)
    client.post(url("identity-code", token), {"code": other_than(code)})
    client.get(url("review", token, 999_999))  # a 404 that Django logs with the path
    logging.getLogger("accord").warning("link for the cardholder: %s", f"https://portal.example.cn/p/{token}/")
    return SimpleNamespace(case=case, link=link, token=token, code=code, otp=otp)


def text_of(response) -> str:
    content = b"".join(response.streaming_content) if response.streaming else response.content
    return content.decode("utf-8-sig")


def assert_no_secret(text: str, sent) -> None:
    assert sent.token[:-4] not in text
    assert sent.code not in text


def test_the_gateway_got_the_clear_link_and_code_and_the_outbox_keeps_them_masked(sent):
    link_message = OutboundMessage.objects.get(pk=sent.link.message_id)
    code_message = OutboundMessage.objects.get(pk=sent.otp.message_id)

    assert f"https://portal.example.cn/p/{sent.token}/" in sms_text(link_message)
    assert sent.code in sms_text(code_message)
    for message in (link_message, code_message):
        assert message.status == OutboundMessage.Status.SENT
        assert message.sealed == ""
        assert_no_secret(message.body, sent)
    assert f"https://portal.example.cn/p/…{sent.token[-4:]}/" in link_message.body
    assert "••••••" in code_message.body


@pytest.mark.parametrize("role", STAFF)
def test_no_staff_page_shows_a_usable_link_or_code(role, request, as_user, sent):
    client = as_user(request.getfixturevalue(role))
    pages = [
        reverse("cases:detail", args=[sent.case.pk]),
        reverse("plans:portal-links", args=[sent.case.pk]),
        reverse("plans:portal-activity", args=[sent.case.pk]),
        reverse("negotiation:panel", args=[sent.case.pk]),
    ]
    if role in ("compliance_officer", "admin_user_"):
        pages += [reverse("compliance:audit-log"), reverse("compliance:audit-export")]

    bodies = {page: client.get(page) for page in pages}

    for page, response in bodies.items():
        assert response.status_code == 200, page
        assert_no_secret(text_of(response), sent)
    # The timeline does show both messages, masked.
    case_page = bodies[pages[0]].content.decode()
    assert f"/p/…{sent.token[-4:]}/" in case_page
    assert "••••••" in case_page


@pytest.mark.parametrize("role", STAFF)
def test_no_api_answer_about_the_case_or_its_messages_shows_one(role, request, api, sent):
    client = api(request.getfixturevalue(role))
    answers = [
        client.get(f"/api/v1/cases/{sent.case.pk}/"),
        client.get(f"/api/v1/cases/{sent.case.pk}/offers/"),
        client.get("/api/v1/tasks/"),
        client.get("/api/v1/cases/", {"q": sent.case.number}),
    ]
    if role in ("supervisor", "admin_user_"):
        answers.append(client.post(f"/api/v1/messages/{sent.link.message_id}/delivered/", {}, format="json"))

    for answer in answers:
        assert answer.status_code == 200, answer.content[:300]
        assert_no_secret(answer.content.decode(), sent)


def test_no_export_shows_one(as_user, admin_user_, sent):
    client = as_user(admin_user_)
    texts = [text_of(client.get(reverse("compliance:audit-export")))]
    for table in DASHBOARD_TABLES:
        csv = client.get(reverse("reporting:export", kwargs={"table": table, "fmt": "csv"}))
        assert csv.status_code == 200
        texts.append(text_of(csv))
        xlsx = client.get(reverse("reporting:export", kwargs={"table": table, "fmt": "xlsx"}))
        assert xlsx.status_code == 200
        workbook = load_workbook(io.BytesIO(xlsx.content))
        texts.append(" ".join(str(cell) for sheet in workbook for row in sheet.iter_rows(values_only=True)
                              for cell in row if cell is not None))

    for text in texts:
        assert_no_secret(text, sent)


def test_no_log_line_shows_one(sent, log_output):
    output = log_output.getvalue()

    assert f"/p/…{sent.token[-4:]}/" in output  # the 404 and the warning were logged, masked
    assert_no_secret(output, sent)


def test_the_access_log_of_gunicorn_masks_the_link_in_the_request_line_path_and_referrer():
    token = "A" * 39 + "a1b2"
    environ = {
        "REQUEST_METHOD": "POST", "RAW_URI": f"/p/{token}/identity/", "SERVER_PROTOCOL": "HTTP/1.1",
        "PATH_INFO": f"/p/{token}/identity/", "QUERY_STRING": "", "HTTP_REFERER": f"https://x.cn/p/{token}/",
        "REMOTE_ADDR": "10.0.0.1",
    }
    response = SimpleNamespace(status="302 Found", sent=0, headers=[])
    logger = MaskingLogger(Config())
    request = SimpleNamespace(headers=[("REFERER", f"https://x.cn/p/{token}/")])

    atoms = logger.atoms(response, request, environ, SimpleNamespace(seconds=0, microseconds=1))

    text = json.dumps(atoms, default=str)
    assert token[:-4] not in text
    assert "/p/…a1b2/identity/" in atoms["r"] and "/p/…a1b2/" in atoms["f"]


# --- Sealing and the migration -------------------------------------------------------------------


def test_a_message_held_for_the_morning_keeps_the_clear_text_only_sealed_and_the_send_wipes_it(team, collector):
    case = CaseFactory(team=team, account__debtor__mobile="13812345678")

    message = message_queue(
        case_id=case.pk, channel="sms", text="点击 https://b.cn/p/…wxyz/ 查看", idempotency_key="held-1",
        clear_text="点击 https://b.cn/p/abcdefghijklmnopqrstuvwxyz/ 查看", purpose="service",
    )

    assert "abcdefghijklmnopqrstuv" not in message.sealed  # encrypted, not merely hidden
    assert message_clear_text(message) == ("", "点击 https://b.cn/p/abcdefghijklmnopqrstuvwxyz/ 查看")


def test_a_seal_made_under_another_secret_key_does_not_open(settings):
    sealed = seal(subject="", body="secret")
    settings.SECRET_KEY = "another-key-" + "x" * 40

    with pytest.raises(SealBroken):
        unseal(sealed)


def test_a_seal_made_before_a_key_rotation_still_opens_with_the_old_key_as_a_fallback(settings):
    old = settings.SECRET_KEY
    sealed = seal(subject="s", body="secret")
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = "new-key-" + "y" * 40, [old]

    assert unseal(sealed) == ("s", "secret")


def stored(case, key: str, body: str, *, status: str, purpose: str = "service") -> OutboundMessage:
    return OutboundMessage.objects.create(
        case=case, channel="sms", purpose=purpose, recipient="13812345678", body=body, idempotency_key=key,
        status=status,
    )


def test_the_migration_masks_links_and_codes_already_stored_and_a_queued_one_still_goes_out_whole(
    team, settings, django_capture_on_commit_callbacks
):
    case = CaseFactory(team=team, account__debtor__mobile="13812345678",
                       account__debtor__timezone=zone_where_it_is_midday())
    token = "Zq3-" + "k" * 35 + "a1b2"
    link_text = f"请点击 https://portal.example.cn/p/{token}/ 核实身份"
    sent_link = stored(case, "old-link-sent", link_text, status="sent")
    queued_link = stored(case, "old-link-queued", link_text, status="queued")
    queued_code = stored(case, "old-code", "您的验证码为 482913，10分钟内有效", status="queued", purpose="requested")
    amount = stored(case, "old-notice", "您的欠款 123456 元", status="sent", purpose="collection")

    changed = outbox_mask_stored(OutboundMessage)

    assert changed == 3
    for message in (sent_link, queued_link, queued_code, amount):
        message.refresh_from_db()
    assert sent_link.body == "请点击 https://portal.example.cn/p/…a1b2/ 核实身份"
    assert sent_link.sealed == ""
    assert queued_link.body == sent_link.body
    assert queued_code.body == "您的验证码为 ••••••，10分钟内有效"
    assert amount.body == "您的欠款 123456 元"
    assert outbox_mask_stored(OutboundMessage) == 0  # a second run finds nothing left

    message_send(message_id=queued_link.pk)

    queued_link.refresh_from_db()
    assert queued_link.status == OutboundMessage.Status.SENT
    assert sms_text(queued_link) == link_text
    assert queued_link.sealed == "" and token not in queued_link.body


def test_reversing_the_migration_gives_an_unsent_message_its_clear_text_back(team):
    case = CaseFactory(team=team)
    text = "您的验证码为 482913"
    message = stored(case, "old-code", text, status="queued", purpose="requested")
    outbox_mask_stored(OutboundMessage)

    assert outbox_unmask_unsent(OutboundMessage) == 1

    message.refresh_from_db()
    assert (message.body, message.sealed) == (text, "")


def test_a_code_sent_now_is_stored_masked_from_the_start(team, collector):
    case = plan_case(team=team, collector=collector)
    make_offer(case, created_by=collector)
    link, _token = portal_link_issue(case_id=case.pk, actor=collector)

    otp = code_send(link_id=link.pk, purpose=OneTimeCode.Purpose.IDENTITY)

    message = OutboundMessage.objects.get(pk=otp.message_id)
    assert message.status == OutboundMessage.Status.QUEUED
    assert "••••••" in message.body
    assert last_code(link, OneTimeCode.Purpose.IDENTITY) not in message.body
