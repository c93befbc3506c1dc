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
from compliance.reasons import reason_text


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
    body = models.TextField(_("text"))  # secrets (a portal link, a one-time code) masked
    # The clear text while a message with secrets waits to be sent, sealed (negotiation.sealing); wiped once sent.
    sealed = models.TextField(blank=True, default="", editable=False)
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


# --- Letters with proof, escalation, agency placement, litigation ---------------------------------------


def _letter_path(letter: "Letter", filename: str) -> str:
    # Under MEDIA_ROOT/private/, which no URL serves; a random name, so nothing is ever overwritten.
    return f"private/letters/{letter.case_id}/{uuid.uuid4().hex}.pdf"


class Letter(models.Model):
    """A collection notice or lawyer letter as issued: its PDF never changes (the SHA-256 verifies it);
    dispatch and delivery are recorded with their proof."""

    class Kind(models.TextChoices):
        COLLECTION_LETTER = "collection_letter", _("collection letter")
        LAWYER_LETTER = "lawyer_letter", _("lawyer letter")

    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="letters")
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    pdf = models.FileField(upload_to=_letter_path, max_length=200)
    sha256 = models.CharField(max_length=64)
    reference = models.CharField(_("reference"), max_length=60)
    issued_on = models.DateField(_("issued on"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT)
    created_at = models.DateTimeField(auto_now_add=True)
    decision = models.ForeignKey(
        "compliance.ContactDecision", on_delete=models.PROTECT, related_name="+", verbose_name=_("contact decision")
    )
    dispatched_at = models.DateTimeField(_("dispatched"), null=True, blank=True)
    dispatch_proof = models.CharField(_("proof of dispatch"), max_length=120, blank=True)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)
    delivery_proof = models.CharField(_("proof of delivery"), max_length=120, blank=True)
    returned_at = models.DateTimeField(_("returned undelivered"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("letter")
        verbose_name_plural = _("letters")
        indexes = [models.Index(fields=["case", "-created_at"], name="letter_case_idx")]

    def __str__(self) -> str:
        return self.reference


class Agency(models.Model):
    """A licensed third-party collection agency cases may be placed with."""

    name = models.CharField(_("name"), max_length=120, unique=True)
    licence_number = models.CharField(_("licence number"), max_length=60)
    contact = models.CharField(_("contact"), max_length=200, blank=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("collection agency")
        verbose_name_plural = _("collection agencies")
        constraints = [models.UniqueConstraint(fields=["licence_number"], name="agency_licence_unique")]

    def __str__(self) -> str:
        return self.name


class Placement(models.Model):
    """A case placed with an agency: proposed, approved by another person (a supervisor), the cardholder
    notified, then handed over (never before the notice); recalled at any point with a reason."""

    class Status(models.TextChoices):
        PROPOSED = "proposed", _("proposed")
        APPROVED = "approved", _("approved")
        NOTIFIED = "notified", _("cardholder notified")
        HANDED_OVER = "handed_over", _("handed over")
        RECALLED = "recalled", _("recalled")

    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="placements")
    agency = models.ForeignKey(Agency, verbose_name=_("agency"), on_delete=models.PROTECT, related_name="placements")
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.PROPOSED)
    data_sent = models.JSONField(_("data handed over"), default=dict, blank=True)
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("proposed by")
    )
    proposed_at = models.DateTimeField(_("proposed"), default=timezone.now)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("approved by"),
    )
    approved_at = models.DateTimeField(_("approved"), null=True, blank=True)
    debtor_notified_at = models.DateTimeField(_("cardholder notified"), null=True, blank=True)
    notice = models.ForeignKey(
        OutboundMessage, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("notice")
    )
    handed_over_at = models.DateTimeField(_("handed over"), null=True, blank=True)
    recalled_at = models.DateTimeField(_("recalled"), null=True, blank=True)
    recall_reason = models.TextField(_("why recalled"), blank=True)

    ACTIVE = (Status.PROPOSED, Status.APPROVED, Status.NOTIFIED, Status.HANDED_OVER)

    class Meta:
        ordering = ["-proposed_at", "-pk"]
        verbose_name = _("agency placement")
        verbose_name_plural = _("agency placements")
        indexes = [models.Index(fields=["status", "-proposed_at"], name="placement_status_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["case"], condition=~Q(status="recalled"), name="one_active_placement_per_case"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} → {self.agency_id} ({self.get_status_display()})"


class LitigationReferral(models.Model):
    """A case referred to litigation: proposed, approved by a supervisor, filed by legal, or withdrawn."""

    class Status(models.TextChoices):
        PROPOSED = "proposed", _("proposed")
        APPROVED = "approved", _("approved")
        FILED = "filed", _("filed")
        WITHDRAWN = "withdrawn", _("withdrawn")

    ACTIVE = (Status.PROPOSED, Status.APPROVED, Status.FILED)

    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="litigation_referrals")
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.PROPOSED)
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("proposed by")
    )
    proposed_at = models.DateTimeField(_("proposed"), default=timezone.now)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("approved by"),
    )
    approved_at = models.DateTimeField(_("approved"), null=True, blank=True)
    legal_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("legal owner"),
    )
    filed_at = models.DateTimeField(_("filed"), null=True, blank=True)
    withdrawn_at = models.DateTimeField(_("withdrawn"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)

    class Meta:
        ordering = ["-proposed_at", "-pk"]
        verbose_name = _("litigation referral")
        verbose_name_plural = _("litigation referrals")
        indexes = [models.Index(fields=["status", "-proposed_at"], name="referral_status_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["case"], condition=~Q(status="withdrawn"), name="one_active_referral_per_case"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} ({self.get_status_display()})"


# --- Follow-up tasks, contact strategies, message templates -----------------------------------------


class FollowUpTask(models.Model):
    """Something a collector must do on a case by a date; made by hand, by a promise or by the strategy."""

    class Kind(models.TextChoices):
        CALL = "call", _("call")
        VISIT = "visit", _("field visit")
        LETTER = "letter", _("letter")
        REVISIT = "revisit", _("revisit")
        REVIEW_PROMISE = "review_promise", _("review promise")
        OTHER = "other", _("other")

    class Source(models.TextChoices):
        STRATEGY = "strategy", _("strategy")
        PROMISE = "promise", _("promise")
        MANUAL = "manual", _("manual")

    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="tasks")
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("collector"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="follow_up_tasks",
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    due_on = models.DateField(_("due on"))
    note = models.CharField(_("note"), max_length=300, blank=True)
    # A note the system wrote: its code and parameters (compliance.reasons); `note` keeps it in the bank's
    # language. Empty for what a person typed.
    note_code = models.CharField(max_length=40, blank=True)
    note_params = models.JSONField(default=dict, blank=True)
    done_at = models.DateTimeField(_("done"), null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    source = models.CharField(_("source"), max_length=10, choices=Source.choices, default=Source.MANUAL)
    strategy_step = models.ForeignKey(
        "negotiation.ContactStrategy", null=True, blank=True, on_delete=models.PROTECT, related_name="tasks"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["due_on", "pk"]
        verbose_name = _("follow-up task")
        verbose_name_plural = _("follow-up tasks")
        indexes = [models.Index(fields=["assigned_to", "done_at", "due_on"], name="task_collector_due_idx")]
        constraints = [
            # The strategy task runs daily; one task per case, step and due date whatever it reruns.
            models.UniqueConstraint(
                fields=["case", "strategy_step", "due_on"], condition=Q(strategy_step__isnull=False),
                name="one_strategy_task_per_case_step_date",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.case_id} by {self.due_on:%Y-%m-%d}"

    @property
    def note_text(self) -> str:
        """The note in the reader's language when the system wrote it; as typed otherwise."""
        return reason_text(self.note_code, self.note_params, self.note)


class ContactStrategy(models.Model):
    """One step of the contact strategy of a class (early / mid / wilful); supervisors edit them."""

    class Action(models.TextChoices):
        SMS = "sms", _("SMS")
        CALL = "call", _("call")
        VISIT = "visit", _("field visit")
        LAWYER_LETTER = "lawyer_letter", _("lawyer letter")
        LITIGATION_REFERRAL = "litigation_referral", _("litigation referral")
        AGENCY_PLACEMENT = "agency_placement", _("agency placement")

    class Basis(models.TextChoices):
        OPENED = "opened", _("after the case opened (once)")
        LAST_CONTACT = "last_contact", _("after the last such contact (repeats)")

    code = models.SlugField(_("code"), max_length=40, unique=True)
    classification = models.CharField(_("class"), max_length=10, choices=[
        ("early", _("early")), ("mid", _("mid")), ("wilful", _("wilful")),
    ])
    order = models.PositiveSmallIntegerField(_("step"))
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices, blank=True)
    action = models.CharField(_("action"), max_length=20, choices=Action.choices)
    basis = models.CharField(_("counted"), max_length=12, choices=Basis.choices, default=Basis.OPENED)
    days = models.PositiveSmallIntegerField(_("days"), default=0)
    needs_supervisor_approval = models.BooleanField(_("needs supervisor approval"), default=False)
    active = models.BooleanField(_("active"), default=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["classification", "order", "pk"]
        verbose_name = _("contact strategy step")
        verbose_name_plural = _("contact strategy steps")

    def __str__(self) -> str:
        return f"{self.classification} #{self.order} {self.get_action_display()}"


class MessageTemplate(models.Model):
    """The text of an SMS or email with {{ variables }}; screened when saved, rendered as plain text."""

    class Language(models.TextChoices):
        ZH_HANS = "zh-hans", _("Simplified Chinese")
        EN = "en", _("English")

    CHANNELS = [(Channel.SMS.value, Channel.SMS.label), (Channel.EMAIL.value, Channel.EMAIL.label)]

    code = models.SlugField(_("code"), max_length=40)
    channel = models.CharField(_("channel"), max_length=10, choices=CHANNELS)
    language = models.CharField(_("language"), max_length=10, choices=Language.choices)
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    body = models.TextField(_("text"))
    active = models.BooleanField(_("active"), default=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["code", "channel", "language"]
        verbose_name = _("message template")
        verbose_name_plural = _("message templates")
        constraints = [
            models.UniqueConstraint(fields=["code", "channel", "language"], name="one_template_per_code_channel_lang")
        ]

    def __str__(self) -> str:
        return f"{self.code} ({self.channel}, {self.language})"


# --- Field visits (上门催收) --------------------------------------------------------------------------


class FieldVisit(models.Model):
    """A visit to the cardholder by two staff: requested with a planned time and an address on record, approved
    or rejected by a supervisor of the case's team who did not request it, then logged once as a contact."""

    class Status(models.TextChoices):
        REQUESTED = "requested", _("requested")
        APPROVED = "approved", _("approved")
        REJECTED = "rejected", _("rejected")
        DONE = "done", _("done")
        CANCELLED = "cancelled", _("cancelled")

    OPEN = (Status.REQUESTED, Status.APPROVED)

    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="visits")
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.REQUESTED)
    planned_at = models.DateTimeField(_("planned for"))
    address_kind = models.CharField(_("address on record"), max_length=20)
    # The address as it was on record when requested: the record of where the staff went stays true.
    address = models.CharField(_("address"), max_length=300)
    first_staff = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("first staff member")
    )
    second_staff = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("second staff member")
    )
    purpose = models.TextField(_("purpose"), blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("requested by")
    )
    requested_at = models.DateTimeField(_("requested"), default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decision_reason = models.TextField(_("reason for the decision"), blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("cancelled by"),
    )
    cancelled_at = models.DateTimeField(_("cancelled"), null=True, blank=True)
    cancel_reason = models.TextField(_("why cancelled"), blank=True)
    contact = models.OneToOneField(
        Contact, null=True, blank=True, on_delete=models.PROTECT, related_name="visit", verbose_name=_("contact")
    )

    class Meta:
        ordering = ["-planned_at", "-pk"]
        verbose_name = _("field visit")
        verbose_name_plural = _("field visits")
        indexes = [models.Index(fields=["status", "planned_at"], name="visit_status_idx")]
        constraints = [
            models.CheckConstraint(condition=~Q(first_staff=models.F("second_staff")), name="visit_two_distinct_staff"),
            models.UniqueConstraint(
                fields=["case"], condition=Q(status__in=["requested", "approved"]), name="one_open_visit_per_case"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} @ {self.planned_at:%Y-%m-%d %H:%M} ({self.get_status_display()})"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN

    @property
    def staff_ids(self) -> tuple[int, int]:
        return (self.first_staff_id, self.second_staff_id)
