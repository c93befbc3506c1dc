from celery import shared_task

from negotiation.services import (
    collection_notices_send,
    message_send,
    messages_release_held,
    promises_judge,
    strategy_tasks_create,
)


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=8)
def send_message(message_id: int) -> None:
    """Safe to run twice: the row's status and the gateway's idempotency key guard the send."""
    message_send(message_id=message_id)


@shared_task(ignore_result=True)
def release_held_messages() -> None:
    """Every minute: send what was held for the contact hours, and what lost its task."""
    for message_id in messages_release_held():
        send_message.delay(message_id)


@shared_task(ignore_result=True)
def judge_promises() -> None:
    """Daily: judge the promises whose grace days are over; a rerun judges nothing twice."""
    promises_judge()


@shared_task(ignore_result=True)
def create_strategy_tasks() -> None:
    """Daily: follow-up tasks for the due strategy steps; a rerun creates nothing twice."""
    strategy_tasks_create()


@shared_task(ignore_result=True)
def send_collection_notices() -> None:
    """Every 15 minutes: the collection notice for new cases in notify; idempotency keys guard reruns."""
    collection_notices_send()
