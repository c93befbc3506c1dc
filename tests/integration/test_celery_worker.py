"""A real Celery worker process consumes a task from Redis and writes to the test database."""

import pytest

from accounts.models import WorkerHeartbeat
from accounts.tasks import worker_heartbeat
from tests.integration.conftest import wait_for

pytestmark = [pytest.mark.redis, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_a_real_worker_consumes_the_heartbeat_task_from_redis(workers, settings):
    assert settings.CELERY_BROKER_URL.startswith("redis://")
    workers.start()
    worker_heartbeat.apply_async(queue=workers.queue)
    assert wait_for(lambda: WorkerHeartbeat.objects.filter(pk=1).exists())
    assert WorkerHeartbeat.objects.get(pk=1).worker
