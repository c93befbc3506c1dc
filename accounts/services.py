from django.utils import timezone

from accounts.models import WorkerHeartbeat


def heartbeat_record(*, worker: str) -> WorkerHeartbeat:
    """Store the time a worker last proved it consumes tasks (one row, overwritten)."""
    heartbeat, _created = WorkerHeartbeat.objects.update_or_create(
        pk=1, defaults={"worker": worker[:200], "beat_at": timezone.now()}
    )
    return heartbeat
