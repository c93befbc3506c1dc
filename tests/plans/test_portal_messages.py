"""The texts plans ships: both languages, only known placeholders, nothing the screening would stop."""

import pytest

from compliance import screening
from compliance.services import screening_terms_active
from negotiation.models import MessageTemplate
from negotiation.rendering import render_plain, template_check
from plans import messages

CODES = (
    messages.PORTAL_LINK,
    messages.ONE_TIME_CODE,
    messages.INSTALLMENT_BEFORE,
    messages.INSTALLMENT_DUE_DAY,
    messages.INSTALLMENT_AFTER_MISS,
    messages.AGREEMENT_THANKS,
)


@pytest.mark.parametrize("code", CODES)
def test_every_plans_text_is_shipped_by_sms_in_chinese_and_english(code):
    shipped = {(c, channel, language) for c, channel, language, _subject, _body in messages.SHIPPED}

    assert {(code, "sms", "zh-hans"), (code, "sms", "en")} <= shipped


@pytest.mark.parametrize("shipped", messages.SHIPPED, ids=lambda s: "-".join(s[:3]) if isinstance(s, tuple) else "")
def test_every_shipped_text_uses_only_known_placeholders_and_passes_the_screening(db, shipped):
    _code, _channel, _language, subject, body = shipped
    template_check(subject)
    template_check(body)

    assert screening.screen(f"{subject}\n{body}", screening_terms_active()) == []


@pytest.mark.parametrize("code", [messages.PORTAL_LINK, messages.AGREEMENT_THANKS])
def test_the_link_texts_carry_the_link(code):
    for c, _channel, _language, _subject, body in messages.SHIPPED:
        if c == code:
            assert "https://x.example/p/t/" in render_plain(body, {"link": "https://x.example/p/t/"})


def test_the_shipped_texts_are_installed_after_migrate(db):
    installed = set(MessageTemplate.objects.filter(code__in=CODES).values_list("code", "channel", "language"))

    assert installed == {(c, channel, language) for c, channel, language, _s, _b in messages.SHIPPED}


def test_installing_again_never_overwrites_a_text_a_supervisor_edited(db):
    template = MessageTemplate.objects.get(code=messages.PORTAL_LINK, channel="sms", language="en")
    MessageTemplate.objects.filter(pk=template.pk).update(body="Edited {{ link }}")

    messages.plan_templates_ensure_shipped()

    template.refresh_from_db()
    assert template.body == "Edited {{ link }}"
