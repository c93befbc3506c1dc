from datetime import datetime

from accounts.models import WorkerHeartbeat


def last_heartbeat_at() -> datetime | None:
    return WorkerHeartbeat.objects.filter(pk=1).values_list("beat_at", flat=True).first()
