import socket

from celery import shared_task

from accounts.services import heartbeat_record


@shared_task(ignore_result=True)
def worker_heartbeat() -> None:
    """Periodic proof that a worker is consuming from the broker; /healthz reads it."""
    heartbeat_record(worker=socket.gethostname())
