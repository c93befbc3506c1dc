import uuid
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.db import models
from django.db.models import Q
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


# --- Verification of the cardholder's situation (情况核实) -----------------------------------------

MONEY = {"max_digits": 14, "decimal_places": 2}


class HardshipReason(models.TextChoices):
    ILLNESS = "illness", _("illness")
    UNEMPLOYMENT = "unemployment", _("unemployment")
    BUSINESS_FAILURE = "business_failure", _("business failure")
    INCOME_DROP = "income_drop", _("income drop")
    FAMILY_EMERGENCY = "family_emergency", _("family emergency")
    NATURAL_DISASTER = "natural_disaster", _("natural disaster")
    DISPUTE = "dispute", _("dispute")
    OTHER = "other", _("other")


class Verification(models.Model):
    """One verification of why the cardholder cannot pay and what they can afford; a plan needs a verified one."""

    class Outcome(models.TextChoices):
        VERIFIED = "verified", _("verified")
        UNVERIFIED = "unverified", _("unverified")
        FALSE_INFORMATION = "false_information", _("false information")

    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="verifications")
    hardship_reason = models.CharField(_("hardship reason"), max_length=20, choices=HardshipReason.choices, blank=True)
    monthly_income = models.DecimalField(_("monthly income"), **MONEY, default=Decimal("0.00"))
    essential_expenses = models.DecimalField(_("essential expenses"), **MONEY, default=Decimal("0.00"))
    other_debt_payments = models.DecimalField(_("other debts' monthly payments"), **MONEY, default=Decimal("0.00"))
    dependants = models.PositiveSmallIntegerField(_("dependants"), default=0)
    disposable_income = models.DecimalField(_("disposable income"), **MONEY, null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    outcome = models.CharField(_("outcome"), max_length=20, choices=Outcome.choices, blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    started_at = models.DateTimeField(_("started"), default=timezone.now)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-pk"]
        verbose_name = _("verification")
        verbose_name_plural = _("verifications")
        constraints = [
            models.UniqueConstraint(
                fields=["case"], condition=Q(completed_at__isnull=True), name="one_open_verification_per_case"
            ),
            models.CheckConstraint(
                condition=Q(monthly_income__gte=0) & Q(essential_expenses__gte=0) & Q(other_debt_payments__gte=0),
                name="verification_money_not_negative",
            ),
        ]
        indexes = [models.Index(fields=["case", "outcome"], name="verification_case_idx")]

    def __str__(self) -> str:
        return f"V{self.pk} ({self.case_id})"

    @property
    def is_open(self) -> bool:
        return self.completed_at is None

    @property
    def computed_disposable_income(self) -> Decimal:
        """What is left each month; negative when the cardholder's outgoings exceed the income."""
        return disposable_income(self.monthly_income, self.essential_expenses, self.other_debt_payments)


def disposable_income(income: Decimal, expenses: Decimal, other_debts: Decimal) -> Decimal:
    return (income or Decimal("0")) - (expenses or Decimal("0")) - (other_debts or Decimal("0"))


def _evidence_path(document: "VerificationDocument", filename: str) -> str:
    # Under MEDIA_ROOT/private/, which no URL serves; the stored name is random, the original is kept apart.
    return f"private/evidence/{document.verification_id}/{uuid.uuid4().hex}{Path(filename).suffix.lower()}"


class VerificationDocument(models.Model):
    """Evidence the cardholder gave for a verification; downloaded only through a permission-checked view."""

    class Kind(models.TextChoices):
        INCOME_PROOF = "income_proof", _("proof of income")
        MEDICAL_RECORD = "medical_record", _("medical record")
        UNEMPLOYMENT_PROOF = "unemployment_proof", _("proof of unemployment")
        BANK_STATEMENT = "bank_statement", _("bank statement")
        OTHER = "other", _("other")

    verification = models.ForeignKey(Verification, on_delete=models.PROTECT, related_name="documents")
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.OTHER)
    file = models.FileField(upload_to=_evidence_path, max_length=200)
    original_name = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(max_length=50)
    size = models.PositiveIntegerField(_("size (bytes)"))
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT)
    uploaded_at = models.DateTimeField(_("uploaded"), default=timezone.now)

    class Meta:
        ordering = ["-uploaded_at", "-pk"]
        verbose_name = _("verification document")
        verbose_name_plural = _("verification documents")

    def __str__(self) -> str:
        return self.original_name


# --- Promises to pay (承诺还款) ----------------------------------------------------------------------


class Promise(models.Model):
    """A cardholder's promise to pay an amount by a date; judged against the payments after its grace days."""

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        KEPT = "kept", _("kept")
        PARTIALLY_KEPT = "partially_kept", _("partially kept")
        BROKEN = "broken", _("broken")

    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="promises")
    amount = models.DecimalField(_("amount"), **MONEY)
    due_on = models.DateField(_("due on"))
    made_via = models.ForeignKey(
        Contact, verbose_name=_("contact"), null=True, blank=True, on_delete=models.PROTECT, related_name="promises"
    )
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.PENDING)
    paid_amount = models.DecimalField(_("paid"), **MONEY, null=True, blank=True)
    judged_at = models.DateTimeField(_("judged"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT)
    created_at = models.DateTimeField(_("made"), default=timezone.now)

    class Meta:
        ordering = ["-due_on", "-pk"]
        verbose_name = _("promise to pay")
        verbose_name_plural = _("promises to pay")
        indexes = [
            models.Index(fields=["status", "due_on"], name="promise_due_idx"),
            models.Index(fields=["case", "status"], name="promise_case_idx"),
        ]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="promise_amount_positive")]

    def __str__(self) -> str:
        return f"{self.amount} by {self.due_on:%Y-%m-%d} ({self.get_status_display()})"
