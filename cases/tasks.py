from celery import shared_task

from cases.services import cases_refresh_aging


@shared_task(acks_late=True, ignore_result=True)
def refresh_aging() -> None:
    """Nightly: buckets, classes and priorities in set-based SQL; open missing cases; settle paid ones.
    Safe to run twice on the same day."""
    cases_refresh_aging()
