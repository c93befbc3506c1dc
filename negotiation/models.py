from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from compliance.policy import Channel as PolicyChannel
from compliance.policy import Outcome as PolicyOutcome
from compliance.policy import Party as PolicyParty


class Channel(models.TextChoices):
    PHONE = PolicyChannel.PHONE, _("phone")
    SMS = PolicyChannel.SMS, _("SMS")
    EMAIL = PolicyChannel.EMAIL, _("email")
    LETTER = PolicyChannel.LETTER, _("letter")
    VISIT = PolicyChannel.VISIT, _("field visit")
    LAWYER_LETTER = PolicyChannel.LAWYER_LETTER, _("lawyer letter")
    PORTAL = PolicyChannel.PORTAL, _("portal")


class Party(models.TextChoices):
    DEBTOR = PolicyParty.DEBTOR, _("cardholder")
    GUARANTOR = PolicyParty.GUARANTOR, _("guarantor")
    SPOUSE = PolicyParty.SPOUSE, _("spouse")
    ATTORNEY = PolicyParty.ATTORNEY, _("attorney")
    CONTACT_PERSON = PolicyParty.CONTACT_PERSON, _("contact person")


class Outcome(models.TextChoices):
    RIGHT_PARTY_CONTACT = PolicyOutcome.RIGHT_PARTY_CONTACT, _("right-party contact")
    NO_ANSWER = PolicyOutcome.NO_ANSWER, _("no answer")
    BUSY = PolicyOutcome.BUSY, _("busy")
    WRONG_NUMBER = PolicyOutcome.WRONG_NUMBER, _("wrong number")
    THIRD_PARTY = PolicyOutcome.THIRD_PARTY, _("third party answered")
    REFUSED = PolicyOutcome.REFUSED, _("refused to pay")
    PROMISE_TO_PAY = PolicyOutcome.PROMISE_TO_PAY, _("promise to pay")
    CALLBACK_REQUESTED = PolicyOutcome.CALLBACK_REQUESTED, _("callback requested")
    DISPUTE_RAISED = PolicyOutcome.DISPUTE_RAISED, _("dispute raised")
    HARDSHIP_STATED = PolicyOutcome.HARDSHIP_STATED, _("hardship stated")


class Contact(models.Model):
    """One contact that happened, on any channel, with the gate's decision that allowed it."""

    class Direction(models.TextChoices):
        OUTBOUND = "outbound", _("outbound")
        INBOUND = "inbound", _("inbound")

    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="contacts")
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices)
    direction = models.CharField(_("direction"), max_length=10, choices=Direction.choices, default=Direction.OUTBOUND)
    party = models.CharField(_("party"), max_length=20, choices=Party.choices, default=Party.DEBTOR)
    number = models.CharField(_("number called"), max_length=20, blank=True)
    outcome = models.CharField(_("outcome"), max_length=30, choices=Outcome.choices)
    duration_seconds = models.PositiveIntegerField(_("duration (s)"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    next_step = models.CharField(_("next step"), max_length=200, blank=True)
    at = models.DateTimeField(_("time"), default=timezone.now)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT)
    decision = models.OneToOneField(
        "compliance.ContactDecision", null=True, blank=True, on_delete=models.PROTECT, related_name="contact"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        indexes = [
            models.Index(fields=["case", "-at"], name="contact_case_idx"),
            models.Index(fields=["recorded_by", "-at"], name="contact_collector_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} {self.get_outcome_display()} @ {self.at:%Y-%m-%d %H:%M}"

    @property
    def is_conversation(self) -> bool:
        return self.outcome in PolicyOutcome.CONVERSATION and self.party == Party.DEBTOR


class OutboundMessage(models.Model):
    """An SMS, email or letter on its way out. It passes the gate when it is sent, not when it is queued;
    its idempotency key makes a send happen once even when a worker retries or dies."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("queued")
        SCHEDULED = "scheduled", _("held until allowed")
        SENDING = "sending", _("sending")
        SENT = "sent", _("sent")
        DELIVERED = "delivered", _("delivered")
        BLOCKED = "blocked", _("blocked by policy")
        FAILED = "failed", _("failed")

    FINAL = (Status.SENT, Status.DELIVERED, Status.BLOCKED, Status.FAILED)

    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="messages")
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices)
    party = models.CharField(_("party"), max_length=20, choices=Party.choices, default=Party.DEBTOR)
    purpose = models.CharField(_("purpose"), max_length=12)
    recipient = models.CharField(_("recipient"), max_length=254)
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    body = models.TextField(_("text"))
    idempotency_key = models.CharField(max_length=120, unique=True)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.QUEUED)
    scheduled_for = models.DateTimeField(_("held until"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    decision = models.ForeignKey(
        "compliance.ContactDecision", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    gateway_ref = models.CharField(max_length=120, blank=True)
    error = models.TextField(blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("outbound message")
        verbose_name_plural = _("outbound messages")
        indexes = [
            models.Index(fields=["status", "scheduled_for"], name="message_due_idx"),
            models.Index(fields=["status", "updated_at"], name="message_stuck_idx"),
            models.Index(fields=["case", "-created_at"], name="message_case_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} → {self.case_id} ({self.get_status_display()})"
