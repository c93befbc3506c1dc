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


@pytest.fixture
def as_user(client):
    """A client logged in as `user`, reading the English source strings."""

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
def _fast_password_hashing(settings):
    """Real hashing is slow by design; tests only need passwords to check."""
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
    page.goto(page.base_url + "/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit].primary")

