from datetime import timedelta
from unittest import mock

import pytest
from django.utils import timezone

from accounts.models import WorkerHeartbeat
from accounts.services import heartbeat_record
from accounts.tasks import worker_heartbeat

pytestmark = pytest.mark.django_db


def test_healthz_is_200_when_database_cache_broker_and_worker_are_well(client):
    heartbeat_record(worker="worker@test")
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"]["ok"] and body["cache"]["ok"] and body["broker"]["ok"]
    assert body["worker"]["last_heartbeat"] is not None


def test_healthz_is_503_before_any_worker_heartbeat(client):
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["worker"] == {"ok": False, "last_heartbeat": None}


def test_healthz_is_503_when_the_heartbeat_is_stale(client, settings):
    WorkerHeartbeat.objects.create(
        pk=1, worker="w", beat_at=timezone.now() - timedelta(seconds=4 * settings.HEARTBEAT_INTERVAL_SECONDS)
    )
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["worker"]["ok"] is False


def test_healthz_is_503_and_says_why_when_the_database_is_down(client):
    heartbeat_record(worker="worker@test")
    with mock.patch("config.health.connection.cursor", side_effect=Exception("connection refused")):
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"] == {"ok": False, "error": "connection refused"}


def test_healthz_needs_no_login(client):
    assert client.get("/healthz").status_code in (200, 503)


def test_the_heartbeat_task_records_the_time(db):
    worker_heartbeat.delay()
    assert WorkerHeartbeat.objects.get(pk=1).beat_at > timezone.now() - timedelta(seconds=5)


def test_the_beat_schedule_runs_the_heartbeat(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["worker-heartbeat"]
    assert entry["task"] == "accounts.tasks.worker_heartbeat"
    assert entry["schedule"] == timedelta(seconds=settings.HEARTBEAT_INTERVAL_SECONDS)
