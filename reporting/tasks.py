from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from reporting.consistency import consistency_run_record
from reporting.snapshots import snapshot_build


@shared_task(acks_late=True, time_limit=3600, soft_time_limit=3300)
def snapshot_yesterday() -> None:
    """Nightly: replace yesterday's snapshots (safe to run twice: the day's rows are replaced, not added)."""
    yesterday = timezone.localdate() - timedelta(days=1)
    snapshot_build(start=yesterday, end=yesterday)


@shared_task(acks_late=True, ignore_result=True, time_limit=3600, soft_time_limit=3300)
def check_consistency() -> None:
    """Nightly: run the consistency checker and keep its result for the compliance dashboard."""
    consistency_run_record()
