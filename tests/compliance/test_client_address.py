"""One client address for everything: taken from the right of X-Forwarded-For past TRUSTED_PROXY_COUNT proxies,
never from what the client wrote itself; it keys the portal and API rate limits and login lockouts, and it is the
address of the audit log and of a signature."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from axes.helpers import get_client_ip_address
from django.test import RequestFactory
from rest_framework.request import Request

from compliance.middleware import client_ip
from compliance.models import AuditEvent
from config.throttling import AnonRateThrottle, UserRateThrottle
from plans.models import Agreement, OneTimeCode, PortalEvent
from plans.views_portal import rate_key
from tests.plans.portal_support import last_code, make_link, make_offer, plan_case, url, verify

ROOT = Path(__file__).resolve().parents[2]
CLIENT = "198.51.100.7"
PROXY = "10.0.0.1"


def request_from(forwarded: str | None, remote: str = PROXY):
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **extra)


@pytest.mark.parametrize(
    "hops, forwarded, expected",
    [
        (0, "203.0.113.9", PROXY),  # no trusted proxy: the header is the client's own and ignored
        (1, None, PROXY),
        (1, CLIENT, CLIENT),
        (1, f"203.0.113.9, {CLIENT}", CLIENT),
        (1, f"1.1.1.1, 2.2.2.2,3.3.3.3, {CLIENT}", CLIENT),
        (2, f"203.0.113.9, {CLIENT}, 192.0.2.50", CLIENT),
        (2, CLIENT, CLIENT),  # came past the inner proxy only
        (1, "203.0.113.9, not-an-address", PROXY),
        (1, f"203.0.113.9, {CLIENT}, ", CLIENT),
        (1, "2001:db8::1", "2001:db8::1"),
    ],
)
def test_the_client_address_is_counted_from_the_right_past_the_trusted_proxies(settings, hops, forwarded, expected):
    settings.TRUSTED_PROXY_COUNT = hops

    assert client_ip(request_from(forwarded)) == expected


def test_drf_throttles_and_login_lockouts_use_the_same_address(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    assert settings.REST_FRAMEWORK["DEFAULT_THROTTLE_CLASSES"] == [
        "config.throttling.AnonRateThrottle", "config.throttling.UserRateThrottle",
    ]
    for spoof in ("203.0.113.9", "203.0.113.10"):
        request = request_from(f"{spoof}, {CLIENT}")
        assert AnonRateThrottle().get_ident(Request(request)) == CLIENT
        assert UserRateThrottle().get_ident(Request(request)) == CLIENT
        assert get_client_ip_address(request) == CLIENT


def test_a_spoofed_forwarded_for_does_not_change_the_portals_rate_limit_key(settings):
    settings.TRUSTED_PROXY_COUNT = 1

    keys = {rate_key(request_from(f"203.0.113.{n}, {CLIENT}"), None) for n in range(5)}

    assert keys == {f"portal-rate:ip:{CLIENT}"}


# --- Through the portal ------------------------------------------------------------------------------


@pytest.fixture
def portal_case(team, collector, client, settings, tmp_path):
    settings.SMS_FILE_DIR = str(tmp_path / "sms")
    settings.MEDIA_ROOT = tmp_path / "media"
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    case = plan_case(team=team, collector=collector)
    return case


@pytest.mark.django_db
def test_rotating_a_fake_forwarded_address_does_not_escape_the_limit_on_unknown_links(client, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    settings.PORTAL_RATE = "3/minute"

    statuses = [
        client.get(url("home", f"guess-{n:02d}-" + "x" * 20), HTTP_X_FORWARDED_FOR=f"203.0.113.{n}, {CLIENT}",
                   REMOTE_ADDR=PROXY).status_code
        for n in range(5)
    ]

    assert statuses == [404, 404, 404, 429, 429]
    other = client.get(url("home", "guess-99-" + "x" * 20), HTTP_X_FORWARDED_FOR="198.51.100.8", REMOTE_ADDR=PROXY)
    assert other.status_code == 404


@pytest.mark.django_db
def test_a_links_requests_count_per_link_whoever_sends_them_and_cardholders_behind_one_proxy_do_not_share(
    client, settings, portal_case
):
    settings.PORTAL_RATE = "3/minute"
    _link, token = make_link(portal_case)
    _other, other_token = make_link(portal_case, token="other-token-" + "y" * 32)

    statuses = [client.get(url("home", token), REMOTE_ADDR=f"192.0.2.{n}").status_code for n in range(4)]

    assert statuses == [200, 200, 200, 429]
    # Another cardholder behind the same address is not held back by the first one's link.
    assert [client.get(url("home", other_token), REMOTE_ADDR="192.0.2.3").status_code for _n in range(3)] == [200] * 3


@pytest.mark.django_db
def test_a_spoofed_forwarded_for_reaches_neither_the_audit_log_nor_the_signature(
    client, settings, portal_case, collector
):
    settings.TRUSTED_PROXY_COUNT = 1
    client.defaults.update(HTTP_X_FORWARDED_FOR=f"6.6.6.6, {CLIENT}", REMOTE_ADDR=PROXY)
    offer = make_offer(portal_case, created_by=collector)
    link, token = make_link(portal_case)

    verify(client, link, token)
    client.post(url("accept", token, offer.pk))
    client.post(url("sign-code", token, offer.pk))
    response = client.post(
        url("sign", token, offer.pk),
        {"signer_name": "王芳", "consent": "on", "code": last_code(link, OneTimeCode.Purpose.SIGN)},
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    assert Agreement.objects.get(case=portal_case).signer_ip == CLIENT
    cardholder_events = AuditEvent.objects.filter(case_id=portal_case.pk, actor_kind="cardholder")
    assert cardholder_events.exists()
    assert set(cardholder_events.values_list("ip", flat=True)) == {CLIENT}
    assert AuditEvent.objects.get(action="agreement.sign").ip == CLIENT
    assert set(PortalEvent.objects.filter(link=link).values_list("ip", flat=True)) == {CLIENT}


def trusted_proxy_count(**env) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k not in ("TRUSTED_PROXY_COUNT", "USE_X_FORWARDED_FOR")}
    environment.update(DEBUG="true", DJANGO_SETTINGS_MODULE="config.settings", **env)
    return subprocess.run(
        [sys.executable, "-c", "from django.conf import settings; print(settings.TRUSTED_PROXY_COUNT)"],
        cwd=ROOT, env=environment, capture_output=True, text=True, timeout=60, check=False,
    )


@pytest.mark.parametrize(
    "env, expected",
    [
        ({}, "0"),
        ({"USE_X_FORWARDED_FOR": "true"}, "1"),
        ({"TRUSTED_PROXY_COUNT": "2", "USE_X_FORWARDED_FOR": "true"}, "2"),
    ],
)
def test_use_x_forwarded_for_is_a_deprecated_alias_for_one_trusted_proxy(env, expected):
    result = trusted_proxy_count(**env)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == expected


def test_a_negative_trusted_proxy_count_refuses_to_start():
    result = trusted_proxy_count(TRUSTED_PROXY_COUNT="-1")

    assert result.returncode != 0
    assert "TRUSTED_PROXY_COUNT must be 0 or more" in result.stderr
