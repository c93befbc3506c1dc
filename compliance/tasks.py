"""Compliance's periodic work: thin tasks that call a service, each safe to run twice."""

from celery import shared_task

from compliance.services import complaints_warn_due, debtors_anonymise_expired


@shared_task(ignore_result=True)
def warn_complaint_deadlines() -> int:
    """Hourly: warn the compliance officers of complaints close to their deadline, once per deadline."""
    return complaints_warn_due()


@shared_task(ignore_result=True)
def anonymise_expired_records() -> int:
    """Daily: anonymise the cardholders whose retention period has run out."""
    return debtors_anonymise_expired()["debtors"]
