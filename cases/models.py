import uuid
from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, FSMModelMixin, transition

from accounts.models import Role
from cases import classification as rules
from compliance.reasons import reason_text

MONEY = {"max_digits": 14, "decimal_places": 2}
NOT_NEGATIVE = [MinValueValidator(Decimal("0.00"))]


class Jurisdiction(models.TextChoices):
    CN = "CN", _("Mainland China")
    US = "US", _("United States")
    GB = "GB", _("United Kingdom")


DEFAULT_TIMEZONE = {
    Jurisdiction.CN: "Asia/Shanghai",
    Jurisdiction.US: "America/New_York",
    Jurisdiction.GB: "Europe/London",
}


class Classification(models.TextChoices):
    EARLY = rules.EARLY, _("early")
    MID = rules.MID, _("mid")
    WILFUL = rules.WILFUL, _("wilful")


class Bucket(models.TextChoices):
    CURRENT = rules.CURRENT, _("current")
    SPECIAL_MENTION = rules.SPECIAL_MENTION, _("special mention")
    SUBSTANDARD = rules.SUBSTANDARD, _("substandard")
    DOUBTFUL = rules.DOUBTFUL, _("doubtful")
    LOSS = rules.LOSS, _("loss")


class Debtor(models.Model):
    """The cardholder. `key` is how imports find the same person again: the national id, else the account."""

    key = models.CharField(max_length=64, unique=True, editable=False)
    full_name = models.CharField(_("name"), max_length=100)
    national_id = models.CharField(_("national id"), max_length=32, blank=True)
    mobile = models.CharField(_("mobile"), max_length=20)
    email = models.EmailField(_("email"), blank=True)
    city = models.CharField(_("city"), max_length=50, blank=True)
    jurisdiction = models.CharField(
        _("jurisdiction"), max_length=2, choices=Jurisdiction.choices, default=Jurisdiction.CN
    )
    timezone = models.CharField(_("time zone"), max_length=64, default="Asia/Shanghai")
    preferred_language = models.CharField(
        _("preferred language"), max_length=10, choices=settings.LANGUAGES, default="zh-hans"
    )
    do_not_contact = models.BooleanField(_("do not contact"), default=False)
    opt_out_phone = models.BooleanField(_("opted out of calls"), default=False)
    opt_out_sms = models.BooleanField(_("opted out of SMS"), default=False)
    opt_out_email = models.BooleanField(_("opted out of email"), default=False)
    anonymised_at = models.DateTimeField(_("anonymised"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("cardholder")
        verbose_name_plural = _("cardholders")
        indexes = [models.Index(fields=["full_name"], name="debtor_name_idx")]

    def __str__(self) -> str:
        return self.full_name


class ContactPerson(models.Model):
    class Relation(models.TextChoices):
        GUARANTOR = "guarantor", _("guarantor")
        SPOUSE = "spouse", _("spouse")
        RELATIVE = "relative", _("relative")
        EMPLOYER = "employer", _("employer")
        FRIEND = "friend", _("friend")
        OTHER = "other", _("other")

    debtor = models.ForeignKey(Debtor, on_delete=models.CASCADE, related_name="contact_persons")
    name = models.CharField(_("name"), max_length=100)
    mobile = models.CharField(_("mobile"), max_length=20)
    relation = models.CharField(_("relation"), max_length=20, choices=Relation.choices)

    class Meta:
        verbose_name = _("contact person")
        verbose_name_plural = _("contact persons")
        constraints = [
            models.UniqueConstraint(fields=["debtor", "relation", "mobile"], name="contact_person_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_relation_display()})"


class CardAccount(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", _("active")
        SETTLED = "settled", _("settled")
        CLOSED = "closed", _("closed")

    debtor = models.ForeignKey(Debtor, on_delete=models.PROTECT, related_name="accounts")
    external_ref = models.CharField(_("account reference"), max_length=40, unique=True)
    card_last4 = models.CharField(_("card (last four)"), max_length=4)
    currency = models.CharField(max_length=3, default="CNY")
    credit_limit = models.DecimalField(_("credit limit"), **MONEY, validators=NOT_NEGATIVE)
    temporary_limit = models.DecimalField(_("temporary limit"), **MONEY, null=True, blank=True)
    temporary_limit_expires_on = models.DateField(_("temporary limit expires"), null=True, blank=True)
    principal_overdue = models.DecimalField(_("principal overdue"), **MONEY, validators=NOT_NEGATIVE)
    interest_overdue = models.DecimalField(_("interest overdue"), **MONEY, validators=NOT_NEGATIVE)
    fees_overdue = models.DecimalField(_("fees overdue"), **MONEY, validators=NOT_NEGATIVE)
    overdue_total = models.GeneratedField(
        expression=F("principal_overdue") + F("interest_overdue") + F("fees_overdue"),
        output_field=models.DecimalField(**MONEY),
        db_persist=True,
    )
    delinquent_since = models.DateField(_("delinquent since"), null=True, blank=True)
    last_payment_on = models.DateField(_("last payment"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.ACTIVE)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("card account")
        verbose_name_plural = _("card accounts")
        indexes = [
            models.Index(fields=["delinquent_since"], name="account_delinquent_idx"),
            models.Index(fields=["overdue_total"], name="account_overdue_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(principal_overdue__gte=0) & Q(interest_overdue__gte=0) & Q(fees_overdue__gte=0),
                name="account_overdue_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return self.external_ref

    def days_past_due(self, today=None) -> int:
        return rules.days_past_due(self.delinquent_since, today or timezone.localdate())


class Payment(models.Model):
    """A payment from the card system, split over the overdue parts in the CN allocation order."""

    account = models.ForeignKey(CardAccount, on_delete=models.PROTECT, related_name="payments")
    external_ref = models.CharField(_("payment reference"), max_length=64, unique=True)
    amount = models.DecimalField(_("amount"), **MONEY)
    paid_at = models.DateTimeField(_("paid at"))
    to_principal = models.DecimalField(**MONEY, default=Decimal("0.00"))
    to_interest = models.DecimalField(**MONEY, default=Decimal("0.00"))
    to_fees = models.DecimalField(**MONEY, default=Decimal("0.00"))
    unapplied = models.DecimalField(_("unapplied"), **MONEY, default=Decimal("0.00"))
    days_past_due = models.PositiveIntegerField(_("days past due when paid"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ["-paid_at", "-pk"]
        indexes = [models.Index(fields=["account", "-paid_at"], name="payment_account_idx")]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive")]

    def __str__(self) -> str:
        return f"{self.external_ref} {self.amount}"


class ClassificationPolicy(models.Model):
    """Editable thresholds for early / mid and for suggesting wilful; one row (pk=1)."""

    early_max_days = models.PositiveIntegerField(_("early: at most days past due"), default=30)
    early_max_amount = models.DecimalField(_("early: at most overdue (¥)"), **MONEY, default=Decimal("10000.00"))
    demand_gap_days = models.PositiveIntegerField(_("wilful: days between two delivered demands"), default=30)
    unpaid_days = models.PositiveIntegerField(_("wilful: days without payment"), default=90)
    broken_promises = models.PositiveIntegerField(_("wilful: broken promises"), default=2)
    evasions = models.PositiveIntegerField(_("wilful: recorded evasions"), default=3)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)

    class Meta:
        verbose_name = _("classification policy")
        verbose_name_plural = _("classification policy")

    def __str__(self) -> str:
        return str(_("classification policy"))

    @classmethod
    def current(cls) -> "ClassificationPolicy":
        policy, _created = cls.objects.get_or_create(pk=1)
        return policy

    def thresholds(self) -> rules.Thresholds:
        return rules.Thresholds(
            early_max_days=self.early_max_days,
            early_max_amount=self.early_max_amount,
            demand_gap_days=self.demand_gap_days,
            unpaid_days=self.unpaid_days,
            broken_promises=self.broken_promises,
            evasions=self.evasions,
        )


class CaseStatus(models.TextChoices):
    NOTIFY = "notify", _("notify")
    FIRST_CONTACT = "first_contact", _("first contact")
    VERIFICATION = "verification", _("verification")
    PLAN = "plan", _("plan")
    SIGNED_AGREEMENT = "signed_agreement", _("signed agreement")
    FOLLOW_UP = "follow_up", _("follow-up")
    BROKEN = "broken", _("broken")
    ESCALATED = "escalated", _("escalated")
    RESOLVED = "resolved", _("resolved")
    CLOSED = "closed", _("closed")


TERMINAL_STATES = (CaseStatus.RESOLVED, CaseStatus.CLOSED)
OPEN_STATES = tuple(s for s in CaseStatus.values if s not in TERMINAL_STATES)
ESCALATABLE_STATES = (
    CaseStatus.NOTIFY,
    CaseStatus.FIRST_CONTACT,
    CaseStatus.VERIFICATION,
    CaseStatus.PLAN,
    CaseStatus.BROKEN,
)


# What people read for each transition (buttons, timeline, refusals).
TRANSITION_LABELS = {
    "record_first_contact": _("Record first contact"),
    "start_verification": _("Start verification"),
    "propose_plan": _("Propose plan"),
    "revise": _("Revise plan"),
    "sign_agreement": _("Record signed agreement"),
    "start_follow_up": _("Start follow-up"),
    "complete": _("Complete"),
    "breach": _("Record breach"),
    "renegotiate": _("Renegotiate"),
    "escalate": _("Escalate"),
    "return_to_negotiation": _("Return to negotiation"),
    "close": _("Close case"),
    "settle": _("Settle (paid in full)"),
}


def guard(code: str, message: str):
    """Mark a transition condition with the code and message a refusal reports."""

    def decorate(func):
        func.code = code
        func.message = message
        return func

    return decorate


@guard("overdue_not_settled", _("The account still has an overdue amount."))
def nothing_overdue(case: "Case") -> bool:
    return case.account.overdue_total <= 0


@guard(
    "verification_not_completed",
    _("The cardholder's situation is not verified yet: complete a verification with the outcome “verified” first."),
)
def situation_verified(case: "Case") -> bool:
    # Read through the reverse relation: cases never imports negotiation (docs/architecture.md).
    return case.verifications.filter(outcome="verified", completed_at__isnull=False).exists()


# Facts of the agreement, read through reverse relations (cases never imports plans): the latest agreement of the
# case, its installments and its count of missed ones. "in_force" is plans' own status value.
def _latest_agreement(case: "Case"):
    return case.agreements.order_by("-signed_at", "-pk").first()


@guard("agreement_not_signed", _("No agreement of this case is signed and in force."))
def agreement_in_force(case: "Case") -> bool:
    return case.agreements.filter(status="in_force").exists()


@guard("agreement_in_force", _("An agreement of this case is in force: it ends by completion or breach."))
def no_agreement_in_force(case: "Case") -> bool:
    return not case.agreements.filter(status="in_force").exists()


@guard("installments_not_all_paid", _("Not every installment of the case's agreement is paid."))
def installments_all_paid(case: "Case") -> bool:
    agreement = _latest_agreement(case)
    if agreement is None or not agreement.installments.exists():
        return False
    return not agreement.installments.filter(paid_amount__lt=F("amount")).exists()


@guard("no_installment_missed", _("No installment of the agreement in force has been missed."))
def installment_missed(case: "Case") -> bool:
    return case.agreements.filter(status="in_force", missed_count__gte=1).exists()


@guard(
    "misses_below_breach",
    _("The agreement's missed installments have not reached the number that breaches it."),
)
def misses_reach_breach(case: "Case") -> bool:
    return case.agreements.filter(
        status="in_force", missed_count__gte=settings.INSTALLMENT_MISSES_TO_BREACH
    ).exists()


def supervisor_only(case: "Case", user) -> bool:
    return user.role in (Role.SUPERVISOR, Role.ADMIN) or user.is_superuser


def case_worker(case: "Case", user) -> bool:
    return user.role in (Role.COLLECTOR, Role.SUPERVISOR, Role.ADMIN) or user.is_superuser


def system_only(case: "Case", user) -> bool:
    return False


class Case(ConcurrentTransitionMixin, FSMModelMixin, models.Model):
    """The collection file of one card account, and the state machine every negotiation runs through."""

    account = models.ForeignKey(CardAccount, on_delete=models.PROTECT, related_name="cases")
    status = FSMField(_("state"), default=CaseStatus.NOTIFY, choices=CaseStatus.choices, protected=True)
    classification = models.CharField(
        _("class"), max_length=10, choices=Classification.choices, default=Classification.EARLY
    )
    bucket = models.CharField(_("regulatory bucket"), max_length=20, choices=Bucket.choices, default=Bucket.CURRENT)
    wilful_suggested = models.BooleanField(_("wilful suggested"), default=False)
    wilful_evidence = models.JSONField(_("wilful evidence"), default=list, blank=True)
    wilful_confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    wilful_confirmed_at = models.DateTimeField(null=True, blank=True)
    wilful_reason = models.TextField(blank=True)
    wilful_dismissed_at = models.DateTimeField(null=True, blank=True)
    team = models.ForeignKey(
        "accounts.Team", verbose_name=_("team"), null=True, blank=True, on_delete=models.PROTECT, related_name="cases"
    )
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("collector"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="assigned_cases",
    )
    priority = models.PositiveIntegerField(_("priority"), default=0)
    next_action_on = models.DateField(_("next action"), null=True, blank=True)
    opened_at = models.DateTimeField(_("opened"), default=timezone.now)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)

    OPEN_STATES = OPEN_STATES
    TRANSITION_NAMES = (
        "record_first_contact",
        "start_verification",
        "propose_plan",
        "revise",
        "sign_agreement",
        "start_follow_up",
        "complete",
        "breach",
        "renegotiate",
        "escalate",
        "return_to_negotiation",
        "close",
        "settle",
    )
    # Transitions that cannot be taken without a written reason.
    REASON_REQUIRED = ("escalate", "return_to_negotiation", "close", "breach")
    # Transitions the system takes on a fact (signing, payments, the installment judge, the nightly settle), and
    # what it must find beyond the transition's own conditions. Everything else only a person takes.
    SYSTEM_TRANSITIONS = ("sign_agreement", "start_follow_up", "complete", "breach", "settle", "return_to_negotiation")
    SYSTEM_CONDITIONS = {"breach": (misses_reach_breach,)}

    class Meta:
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        constraints = [
            models.UniqueConstraint(
                fields=["account"],
                condition=~Q(status__in=TERMINAL_STATES),
                name="one_open_case_per_account",
            ),
        ]
        indexes = [
            models.Index(
                F("team"),
                F("status"),
                F("priority").desc(),
                F("next_action_on"),
                F("id"),
                name="case_team_worklist_idx",
            ),
            models.Index(
                F("assigned_to"),
                F("status"),
                F("priority").desc(),
                F("next_action_on"),
                F("id"),
                name="case_collector_worklist_idx",
            ),
            models.Index(
                F("status"), F("priority").desc(), F("next_action_on"), F("id"), name="case_status_worklist_idx"
            ),
            models.Index(fields=["classification", "status"], name="case_class_status_idx"),
            models.Index(fields=["bucket", "status"], name="case_bucket_status_idx"),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def number(self) -> str:
        return f"C{self.pk:08d}" if self.pk else "C-new"

    @property
    def is_open(self) -> bool:
        return self.status not in TERMINAL_STATES

    # The state machine (docs/architecture.md). Methods change state in memory; cases.services saves and records.
    @transition(field=status, source=CaseStatus.NOTIFY, target=CaseStatus.FIRST_CONTACT, permission=case_worker)
    def record_first_contact(self):
        """A right-party contact was made."""

    @transition(field=status, source=CaseStatus.FIRST_CONTACT, target=CaseStatus.VERIFICATION, permission=case_worker)
    def start_verification(self):
        """The cardholder's situation is being verified."""

    @transition(
        field=status,
        source=CaseStatus.VERIFICATION,
        target=CaseStatus.PLAN,
        conditions=[situation_verified],
        permission=case_worker,
    )
    def propose_plan(self):
        """A repayment plan is being offered."""

    @transition(field=status, source=CaseStatus.PLAN, target=CaseStatus.VERIFICATION, permission=case_worker)
    def revise(self):
        """Back to verification to rework the plan."""

    @transition(
        field=status,
        source=CaseStatus.PLAN,
        target=CaseStatus.SIGNED_AGREEMENT,
        conditions=[agreement_in_force],
        permission=system_only,
    )
    def sign_agreement(self):
        """The cardholder signed the repayment agreement (portal e-signature or a confirmed branch scan)."""

    @transition(
        field=status,
        source=CaseStatus.SIGNED_AGREEMENT,
        target=CaseStatus.FOLLOW_UP,
        conditions=[agreement_in_force],
        permission=system_only,
    )
    def start_follow_up(self):
        """Installments are being followed; taken by signing, right after sign_agreement."""

    @transition(
        field=status,
        source=CaseStatus.FOLLOW_UP,
        target=CaseStatus.RESOLVED,
        conditions=[installments_all_paid],
        permission=system_only,
    )
    def complete(self):
        """Every installment was paid; taken by the payment that paid the last one."""
        self.closed_at = timezone.now()

    @transition(
        field=status,
        source=CaseStatus.FOLLOW_UP,
        target=CaseStatus.BROKEN,
        conditions=[installment_missed],
        permission=supervisor_only,
    )
    def breach(self):
        """The agreement was breached: by the installment judge, or by a supervisor with a reason after a miss."""

    @transition(field=status, source=CaseStatus.BROKEN, target=CaseStatus.VERIFICATION, permission=case_worker)
    def renegotiate(self):
        """Negotiate again after a breach."""

    @transition(field=status, source=ESCALATABLE_STATES, target=CaseStatus.ESCALATED, permission=supervisor_only)
    def escalate(self):
        """Hand the case to legal or an agency track."""

    @transition(field=status, source=CaseStatus.ESCALATED, target=CaseStatus.FIRST_CONTACT, permission=supervisor_only)
    def return_to_negotiation(self):
        """Bring an escalated case back to negotiation."""

    @transition(
        field=status,
        source=OPEN_STATES,
        target=CaseStatus.CLOSED,
        conditions=[no_agreement_in_force],
        permission=supervisor_only,
    )
    def close(self):
        """Close the case for a recorded reason."""
        self.closed_at = timezone.now()

    @transition(
        field=status,
        source=OPEN_STATES,
        target=CaseStatus.RESOLVED,
        conditions=[nothing_overdue, no_agreement_in_force],
        permission=system_only,
    )
    def settle(self):
        """The overdue amount was paid off outside an agreement; only the system takes this one."""
        self.closed_at = timezone.now()


class CaseTransition(models.Model):
    """One step of a case through the state machine: who, when, from, to and why."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="transitions")
    name = models.CharField(max_length=40)
    source = models.CharField(max_length=20, choices=CaseStatus.choices)
    target = models.CharField(max_length=20, choices=CaseStatus.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT)
    reason = models.TextField(blank=True)
    # A reason the system wrote: its code and parameters (compliance.reasons); `reason` keeps the text in the
    # bank's language. Empty for what a person typed.
    reason_code = models.CharField(max_length=40, blank=True)
    reason_params = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["case", "-at"], name="transition_case_idx")]

    def __str__(self) -> str:
        return f"{self.case_id}: {self.source} → {self.target}"

    @property
    def reason_text(self) -> str:
        """The reason in the reader's language when the system wrote it; as typed otherwise."""
        return reason_text(self.reason_code, self.reason_params, self.reason)


class CaseEvidence(models.Model):
    """A fact that counts toward a wilful suggestion (a delivered demand, a broken promise, ...)."""

    class Kind(models.TextChoices):
        DELIVERED_DEMAND = rules.DELIVERED_DEMAND, _("delivered demand")
        BROKEN_PROMISE = rules.BROKEN_PROMISE, _("broken promise")
        FALSE_INFORMATION = rules.FALSE_INFORMATION, _("false information")
        EVASION = rules.EVASION, _("evasion")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="evidence")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    occurred_on = models.DateField()
    detail = models.CharField(max_length=300, blank=True)
    source_ref = models.CharField(max_length=80, blank=True, help_text="what recorded it, e.g. letter:42")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-occurred_on", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["case", "kind", "source_ref"], condition=~Q(source_ref=""), name="evidence_source_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case_id}: {self.kind} {self.occurred_on}"


def import_file_path(batch: "ImportBatch", filename: str) -> str:
    # Under MEDIA_ROOT/private/, which no URL serves; a random name, the uploaded one is kept in `filename`.
    return f"private/imports/{timezone.now():%Y/%m}/{uuid.uuid4().hex}.csv"


def import_errors_path(batch: "ImportBatch", filename: str) -> str:
    return f"private/imports/errors/{timezone.now():%Y/%m}/{uuid.uuid4().hex}.csv"


class ImportBatch(models.Model):
    """One uploaded file and what its import did; the file itself is kept (private, under MEDIA_ROOT).

    A batch is applied in one transaction: it ends `done` with every valid row applied, or `failed`
    with none of them."""

    class Kind(models.TextChoices):
        ACCOUNTS = "accounts", _("accounts")
        PAYMENTS = "payments", _("payments")

    class Status(models.TextChoices):
        QUEUED = "queued", _("queued")
        RUNNING = "running", _("running")
        DONE = "done", _("done")
        FAILED = "failed", _("failed")

    # How many row errors the batch row keeps (and the API shows); the errors file has all of them.
    ERRORS_KEPT = 1000

    kind = models.CharField(max_length=10, choices=Kind.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    file = models.FileField(upload_to=import_file_path)
    filename = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64, db_index=True)
    encoding = models.CharField(max_length=20, blank=True)
    rows_total = models.PositiveIntegerField(default=0)
    rows = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    error_count = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)
    errors_file = models.FileField(upload_to=import_errors_path, blank=True)
    failure_code = models.CharField(max_length=40, blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT)
    queued_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-queued_at", "-pk"]
        verbose_name = _("import batch")
        verbose_name_plural = _("import batches")

    def __str__(self) -> str:
        return f"{self.kind} {self.filename}"

    @property
    def is_over(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)

    def summary(self) -> dict:
        return {
            "batch": self.pk,
            "status": self.status,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "error_count": self.error_count,
            "errors": self.errors,
        }


class AssignmentRule(models.Model):
    """Puts new cases of a class and city in a team; the first active rule that matches wins."""

    position = models.PositiveIntegerField(_("order"), default=100)
    classification = models.CharField(_("class"), max_length=10, choices=Classification.choices, blank=True)
    city = models.CharField(_("city"), max_length=50, blank=True, help_text=_("empty: any city"))
    team = models.ForeignKey("accounts.Team", verbose_name=_("team"), on_delete=models.CASCADE)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["position", "pk"]
        verbose_name = _("assignment rule")
        verbose_name_plural = _("assignment rules")

    def __str__(self) -> str:
        return f"{self.position}: {self.classification or '*'} / {self.city or '*'} → {self.team}"

    def matches(self, case: Case) -> bool:
        return (not self.classification or self.classification == case.classification) and (
            not self.city or self.city == case.account.debtor.city
        )
