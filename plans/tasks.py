"""Plans' Celery work: thin tasks that take ids, call a follow-up service, and are safe to run twice."""

from celery import shared_task

from plans.followup import agreement_thanks_send, installments_judge, reminder_send, reminders_send


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=8)
def send_installment_reminder(installment_id: int, kind: str) -> None:
    """The unique (installment, kind) Reminder row and the message's idempotency key guard a rerun."""
    reminder_send(installment_id=installment_id, kind=kind)


@shared_task(acks_late=True, ignore_result=True)
def send_installment_reminders() -> int:
    """Daily: a task per reminder owed today; a rerun hands out only what has not gone yet."""
    return reminders_send()


@shared_task(acks_late=True, ignore_result=True)
def judge_installments() -> dict:
    """Daily: installments past their grace days are missed, agreements with too many misses breached."""
    return installments_judge()


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=8)
def send_agreement_thanks(agreement_id: int) -> None:
    """After completion: the thank-you with the survey link, once per agreement."""
    agreement_thanks_send(agreement_id=agreement_id)
