"""A supervisor's first login: enrol an authenticator, keep the recovery codes, then log in with a code."""

import re

import pytest
from django_otp.oath import totp

from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _code(secret_text: str, drift: int = 0) -> str:
    import base64

    secret = secret_text.replace(" ", "")
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    return f"{totp(key, step=30, t0=0, digits=6, drift=drift):06d}"


def _password(page, username: str) -> None:
    page.goto(page.base_url + "/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit].primary")


def test_a_supervisor_enrols_and_then_logs_in_with_a_code(page, supervisor, screenshots_dir):
    _password(page, "supervisor")
    page.wait_for_url(re.compile(r"/account/two-factor/enrol/"))
    assert page.locator(".enrol-qr svg").count() == 1
    assert page.locator("nav.mainnav a").count() == 0
    secret = page.locator('[data-testid="totp-secret"]').inner_text()
    page.screenshot(path=str(screenshots_dir / "two-factor-enrol.png"), full_page=True)

    # Nothing else opens before the enrolment is done.
    page.goto(page.base_url + "/cases/supervisor/")
    page.wait_for_url(re.compile(r"/account/two-factor/enrol/"))

    page.fill("#id_code", _code(secret))
    page.click("button[type=submit].primary")
    codes = page.locator('[data-testid="recovery-codes"] li')
    assert codes.count() == 10
    assert re.fullmatch(r"[a-z0-9]{5}-[a-z0-9]{5}", codes.first.inner_text())
    page.screenshot(path=str(screenshots_dir / "two-factor-recovery-codes.png"), full_page=True)
    page.click("a.button.primary")
    page.wait_for_url(re.compile(r"/cases/supervisor/$"))

    page.click("header form[action='/logout/'] button")
    page.wait_for_url(re.compile(r"/login/"))

    _password(page, "supervisor")
    page.wait_for_url(re.compile(r"/login/code/"))
    # The code of the enrolment may not be used twice; the app's next code is accepted (one step of drift).
    page.fill("#id_code", _code(secret, drift=1))
    page.click("button[type=submit].primary")
    page.wait_for_url(re.compile(r"/cases/supervisor/$"))
    assert page.locator('[data-testid="whoami"]').inner_text() == f"{supervisor.get_full_name()} · 主管"
    assert page.locator("nav.mainnav a").count() > 0
