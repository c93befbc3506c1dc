import socket

from celery import shared_task
from celery.signals import worker_ready

from accounts.services import heartbeat_record


@shared_task(ignore_result=True)
def worker_heartbeat() -> None:
    """Periodic proof that a worker is consuming from the broker; /healthz reads it."""
    heartbeat_record(worker=socket.gethostname())


@worker_ready.connect
def _heartbeat_on_start(**kwargs) -> None:
    """Send one heartbeat through the broker at start, so /healthz is green before the first beat."""
    worker_heartbeat.delay()
