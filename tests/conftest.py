"""Shared fixtures. Tests that need PostgreSQL, Redis or Chromium skip locally without them and are
required when CI=true."""

import os
import uuid
from pathlib import Path

import pytest
from django.conf import settings

from tests.factories import PASSWORD, TeamFactory, UserFactory

IN_CI = os.environ.get("CI", "").lower() == "true"
CHROMIUM = Path("/usr/bin/chromium")


def _missing(marker: str) -> str | None:
    if marker == "postgres" and settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        return "needs PostgreSQL (set DATABASE_URL)"
    if marker == "redis" and not settings.REDIS_URL:
        return "needs Redis (set REDIS_URL)"
    if marker == "browser" and not CHROMIUM.exists():
        return "needs Chromium at /usr/bin/chromium"
    return None


def pytest_runtest_setup(item):
    for marker in ("postgres", "redis", "browser"):
        if item.get_closest_marker(marker) is None:
            continue
        reason = _missing(marker)
        if reason is None:
            continue
        if IN_CI:
            pytest.fail(f"CI requires this test, but it {reason}")
        pytest.skip(reason)


@pytest.fixture(autouse=True)
def _celery_eager():
    """Tasks run in-process unless an integration test starts a real worker."""
    from config.celery import app

    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    yield
    app.conf.task_always_eager = False


def two_factor_device(user):
    """The user's confirmed authenticator, created if missing (a test stands in for the phone)."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    return device or TOTPDevice.objects.create(user=user, name="test phone", confirmed=True)


def totp_now(device, drift: int = 0) -> str:
    """The code the device's app shows now (drift=1: the next one, accepted too, for a second login within the
    same 30 seconds, since a code once used is refused)."""
    from django_otp.oath import totp

    code = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=drift)
    return f"{code:0{device.digits}d}"


def mark_two_factor_verified(client, user) -> None:
    """Make the client's session one that has passed the second factor, as the code page does."""
    from django_otp import DEVICE_ID_SESSION_KEY

    session = client.session
    session[DEVICE_ID_SESSION_KEY] = two_factor_device(user).persistent_id
    session.save()


@pytest.fixture(autouse=True)
def _force_login_is_a_full_login(monkeypatch):
    """`client.force_login(user)` stands for a finished login, second factor included, for users who would
    be asked for one (their role requires it, or they have an authenticator); the two-factor tests log in
    through the real pages instead."""
    from django.test import Client

    from accounts.two_factor import pending_step

    original = Client.force_login

    def force_login(self, user, backend=None):
        original(self, user, backend)
        if pending_step(user) is not None:
            mark_two_factor_verified(self, user)

    monkeypatch.setattr(Client, "force_login", force_login)


@pytest.fixture
def as_user(client):
    """A client logged in as `user` (both factors), reading the English source strings."""

    def login(user):
        client.force_login(user)
        client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
        return client

    return login


@pytest.fixture(autouse=True)
def _default_language():
    """Every test starts in the default language (zh-hans): a request made by an earlier test in the same
    worker would otherwise leave its language active, and a test's outcome would depend on the order."""
    from django.utils import translation

    translation.deactivate()
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _fast_password_hashing(request, settings):
    """Real hashing is slow by design; tests only need passwords to check (those marked
    real_password_hashing keep the configured hashers)."""
    if request.node.get_closest_marker("real_password_hashing") is None:
        settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fresh_cache(settings):
    """An empty cache per test: a key prefix of its own on Redis (never FLUSHDB, the broker lives
    there), a cleared local-memory cache otherwise."""
    from django.core.cache import cache

    if settings.REDIS_URL:
        settings.CACHES = {
            "default": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": settings.REDIS_URL,
                "KEY_PREFIX": f"test-{uuid.uuid4().hex}",
            }
        }
    else:
        cache.clear()


@pytest.fixture
def team(db):
    return TeamFactory(name="华东一组")


@pytest.fixture
def other_team(db):
    return TeamFactory(name="华南二组")


@pytest.fixture
def collector(team):
    return UserFactory(username="collector", role="collector", team=team)


@pytest.fixture
def supervisor(team):
    user = UserFactory(username="supervisor", role="supervisor", team=team)
    team.supervisor = user
    team.save()
    return user


@pytest.fixture
def compliance_officer(team):
    return UserFactory(username="compliance", role="compliance", team=None)


@pytest.fixture
def legal_user(db):
    return UserFactory(username="legal", role="legal", team=None)


@pytest.fixture
def admin_user_(db):
    return UserFactory(username="admin", role="admin", team=None)


@pytest.fixture
def password():
    return PASSWORD


@pytest.fixture
def api(client):
    """A DRF-style client helper: api(user).get(...) with JSON bodies."""
    from rest_framework.test import APIClient

    def for_user(user=None):
        api_client = APIClient()
        if user is not None:
            api_client.force_authenticate(user)
        return api_client

    return for_user


# --- Browser ------------------------------------------------------------------------------------

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        if IN_CI:
            pytest.fail("CI requires Chromium at /usr/bin/chromium")
        pytest.skip("needs Chromium at /usr/bin/chromium")
    # Playwright's sync API runs an event loop in this thread; Django's ORM is only used around it.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(locale="zh-CN", viewport={"width": 1366, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15000)
    page.base_url = live_server.url
    yield page
    context.close()


@pytest.fixture
def screenshots_dir():
    folder = Path(settings.VAR_DIR) / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def login(page, username: str, password: str = PASSWORD) -> None:
    """Log in through the pages; a user asked for a second factor types the code of an authenticator the
    test holds for them (created if they have none)."""
    from accounts.models import User
    from accounts.two_factor import pending_step

    user = User.objects.get(username=username)
    device = None
    if pending_step(user) is not None:
        device = two_factor_device(user)
        device.last_t = -1  # a second login in the same 30 seconds may reuse the code
        device.save(update_fields=["last_t"])
    page.goto(page.base_url + "/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit].primary")
    if device is not None:
        page.wait_for_url("**/login/code/**")
        page.fill("#id_code", totp_now(device))
        page.click("button[type=submit].primary")

