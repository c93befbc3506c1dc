from celery import shared_task
from django.conf import settings

from cases.imports import ImportBusy, import_batch_run, import_batches_fail_stale
from cases.services import cases_refresh_aging


@shared_task(acks_late=True, ignore_result=True)
def refresh_aging() -> None:
    """Nightly: buckets, classes and priorities in set-based SQL; open missing cases; settle paid ones.
    Safe to run twice on the same day."""
    cases_refresh_aging()


@shared_task(
    bind=True,
    acks_late=True,
    ignore_result=True,
    max_retries=None,
    time_limit=settings.IMPORT_TIME_LIMIT + 60,
    soft_time_limit=settings.IMPORT_TIME_LIMIT,
)
def run_import(self, batch_id: int) -> None:
    """Apply an uploaded batch; while another import runs it stays queued and is tried again. Safe to run
    twice: a finished batch is left alone."""
    try:
        import_batch_run(batch_id=batch_id)
    except ImportBusy as busy:
        raise self.retry(countdown=settings.IMPORT_RETRY_SECONDS) from busy


@shared_task(acks_late=True, ignore_result=True)
def fail_stale_imports() -> None:
    """Every few minutes: a batch still running while nobody holds the import lock lost its worker."""
    import_batches_fail_stale()
