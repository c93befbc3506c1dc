from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

MONEY = {"max_digits": 14, "decimal_places": 2}
RATE = {"max_digits": 7, "decimal_places": 6}
PERCENT = {"max_digits": 5, "decimal_places": 2, "validators": [MinValueValidator(0), MaxValueValidator(100)]}


class Method(models.TextChoices):
    ANNUITY = "annuity", _("equal installments")
    EQUAL_PRINCIPAL = "equal_principal", _("equal principal")
    FLAT_FEE = "flat_fee", _("flat installment fee")


class PlanKind(models.TextChoices):
    """The scheme's repayment options. Waivers and a limit adjustment combine with any of them."""

    INSTALLMENTS = "installments", _("installments")
    DEFERRAL = "deferral", _("deferral")
    PAUSE = "pause", _("payment pause with grace period")
    RESTRUCTURE = "restructure", _("debt restructuring")


class AuthorityLimit(models.Model):
    """What one role may offer without a supervisor's approval; edited by supervisors."""

    role = models.CharField(_("role"), max_length=20, unique=True)
    max_interest_waiver_pct = models.DecimalField(_("largest interest waiver (%)"), **PERCENT)
    max_fee_waiver_pct = models.DecimalField(_("largest fee waiver (%)"), **PERCENT)
    max_months = models.PositiveSmallIntegerField(
        _("longest term (months)"), validators=[MinValueValidator(1), MaxValueValidator(60)]
    )
    max_grace_months = models.PositiveSmallIntegerField(
        _("longest grace (months)"), validators=[MaxValueValidator(12)]
    )
    may_adjust_limit = models.BooleanField(_("may adjust the credit limit"), default=False)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["role"]
        verbose_name = _("authority limit")
        verbose_name_plural = _("authority limits")

    def __str__(self) -> str:
        return self.role


class Offer(models.Model):
    """A repayment plan offered on a case: its terms, the schedule they give, and who made and approved it.
    The terms and schedule never change after creation; a new offer replaces an old one."""

    class Status(models.TextChoices):
        PENDING_APPROVAL = "pending_approval", _("awaiting approval")
        READY = "ready", _("ready to send")
        REJECTED = "rejected", _("rejected")
        OFFERED = "offered", _("offered to the cardholder")
        ACCEPTED = "accepted", _("accepted")
        SIGNED = "signed", _("signed")
        WITHDRAWN = "withdrawn", _("withdrawn")

    OPEN = (Status.PENDING_APPROVAL, Status.READY, Status.OFFERED, Status.ACCEPTED)

    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="offers")
    kind = models.CharField(_("kind"), max_length=20, choices=PlanKind.choices, default=PlanKind.INSTALLMENTS)
    method = models.CharField(_("method"), max_length=20, choices=Method.choices, default=Method.ANNUITY)
    months = models.PositiveSmallIntegerField(_("months"), validators=[MinValueValidator(1), MaxValueValidator(60)])
    annual_rate = models.DecimalField(_("annual rate"), **RATE, default=Decimal("0"))
    monthly_fee_rate = models.DecimalField(_("monthly fee rate"), **RATE, default=Decimal("0"))
    interest_waiver_pct = models.DecimalField(_("interest waiver (%)"), **PERCENT, default=Decimal("0"))
    fee_waiver_pct = models.DecimalField(_("fee waiver (%)"), **PERCENT, default=Decimal("0"))
    grace_months = models.PositiveSmallIntegerField(_("grace months"), default=0)
    first_due_date = models.DateField(_("first due date"))
    new_limit = models.DecimalField(_("temporary credit limit"), **MONEY, null=True, blank=True)
    new_limit_expires_on = models.DateField(_("temporary limit expires"), null=True, blank=True)

    # The balance the schedule was built on; an offer whose balance moved is stale and cannot be signed.
    principal = models.DecimalField(_("principal"), **MONEY)
    interest = models.DecimalField(_("interest"), **MONEY)
    fees = models.DecimalField(_("fees"), **MONEY)
    financed_amount = models.DecimalField(_("financed amount"), **MONEY)
    total_payable = models.DecimalField(_("total payable"), **MONEY)
    total_waived = models.DecimalField(_("amount waived"), **MONEY)
    largest_installment = models.DecimalField(_("largest installment"), **MONEY)
    schedule = models.JSONField(_("schedule"), default=list)

    disposable_income = models.DecimalField(_("verified disposable income"), **MONEY, null=True, blank=True)
    unaffordable = models.BooleanField(_("above disposable income"), default=False)
    affordability_override = models.TextField(_("why offered although unaffordable"), blank=True)
    approval_reasons = models.JSONField(_("why approval is needed"), default=list, blank=True)

    status = models.CharField(_("status"), max_length=20, choices=Status.choices)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="offers_made")
    created_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="offers_decided"
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decision_reason = models.TextField(_("decision reason"), blank=True)
    offered_at = models.DateTimeField(_("offered"), null=True, blank=True)
    accepted_at = models.DateTimeField(_("accepted"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("offer")
        verbose_name_plural = _("offers")
        indexes = [
            models.Index(fields=["case", "status"], name="offer_case_status_idx"),
            models.Index(fields=["status", "created_at"], name="offer_approval_queue_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.months} × {self.case_id}"


class PortalLink(models.Model):
    """A cardholder's way into the portal for one case. Only the token's SHA-256 is stored."""

    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="portal_links")
    token_hash = models.CharField(max_length=64, unique=True)
    channel = models.CharField(_("sent by"), max_length=10)
    message = models.ForeignKey(
        "negotiation.OutboundMessage", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(_("expires"))
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    identity_failures = models.PositiveSmallIntegerField(default=0)
    # Wrong one-time codes of any purpose since the last right one or lock, across resends.
    code_failures = models.PositiveSmallIntegerField(default=0)
    locked_until = models.DateTimeField(_("locked until"), null=True, blank=True)
    last_opened_at = models.DateTimeField(_("last opened"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("portal link")
        verbose_name_plural = _("portal links")
        indexes = [models.Index(fields=["case", "-created_at"], name="portal_link_case_idx")]

    def __str__(self) -> str:
        return f"link {self.pk} → case {self.case_id}"


class OneTimeCode(models.Model):
    """A code sent to the registered mobile, to prove identity or to sign. Only its hash is stored."""

    class Purpose(models.TextChoices):
        IDENTITY = "identity", _("identity check")
        SIGN = "sign", _("signature")

    link = models.ForeignKey(PortalLink, on_delete=models.PROTECT, related_name="codes")
    purpose = models.CharField(max_length=10, choices=Purpose.choices)
    code_hash = models.CharField(max_length=64)
    message = models.ForeignKey(
        "negotiation.OutboundMessage", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["link", "purpose", "-created_at"], name="otp_link_idx")]

    def __str__(self) -> str:
        return f"{self.purpose} code for link {self.link_id}"


class PortalEvent(models.Model):
    """What the cardholder did in the portal, shown to the collector on the case page."""

    class Kind(models.TextChoices):
        OPENED = "opened", _("opened the link")
        IDENTITY_FAILED = "identity_failed", _("identity check failed")
        LOCKED = "locked", _("locked after too many attempts")
        VERIFIED = "verified", _("identity verified")
        CODE_FAILED = "code_failed", _("wrong one-time code")
        ACCEPTED = "accepted", _("accepted an offer")
        SIGNED = "signed", _("signed the agreement")
        DOWNLOADED = "downloaded", _("downloaded the agreement")
        COUNTER_OFFER = "counter_offer", _("proposed a counter-offer")
        SURVEY = "survey", _("answered the survey")

    link = models.ForeignKey(PortalLink, on_delete=models.PROTECT, related_name="events")
    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="portal_events")
    kind = models.CharField(_("what"), max_length=20, choices=Kind.choices)
    detail = models.JSONField(default=dict, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    at = models.DateTimeField(_("time"))

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name = _("portal event")
        verbose_name_plural = _("portal events")
        indexes = [models.Index(fields=["case", "-at"], name="portal_event_case_idx")]

    def __str__(self) -> str:
        return f"{self.kind} on case {self.case_id}"


class CounterOffer(models.Model):
    """The cardholder's own proposal when no offer fits; it reaches the collector as a task."""

    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="counter_offers")
    link = models.ForeignKey(PortalLink, on_delete=models.PROTECT, related_name="counter_offers")
    monthly_amount = models.DecimalField(_("monthly amount"), **MONEY)
    reason = models.TextField(_("reason"))
    months_needed = models.PositiveSmallIntegerField(_("months needed"))
    affordable = models.BooleanField(_("within disposable income"), null=True)
    task = models.ForeignKey(
        "negotiation.FollowUpTask", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("counter-offer")
        verbose_name_plural = _("counter-offers")

    def __str__(self) -> str:
        return f"{self.monthly_amount}/month on case {self.case_id}"


class Agreement(models.Model):
    """The signed repayment agreement. Its PDF, hash and signature never change after signing;
    only its status moves (in force → completed or breached). Signed in the portal (e-signature with a one-time
    code) or on paper at a branch, where the stored PDF is the scan one staff member uploaded and another confirmed."""

    class Channel(models.TextChoices):
        PORTAL = "portal", _("portal e-signature")
        BRANCH = "branch", _("signed on paper at a branch")

    class Status(models.TextChoices):
        IN_FORCE = "in_force", _("in force")
        COMPLETED = "completed", pgettext_lazy("agreement status", "completed")
        BREACHED = "breached", _("breached")

    SIGNATURE_FIELDS = (
        "case_id", "offer_id", "number", "pdf", "sha256", "signer_name", "signed_at", "signer_ip",
        "signer_user_agent", "code_id", "channel", "uploaded_by_id", "confirmed_by_id",
    )

    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="agreements")
    offer = models.OneToOneField(Offer, on_delete=models.PROTECT, related_name="agreement")
    number = models.CharField(_("agreement number"), max_length=30, unique=True)
    pdf = models.FileField(_("agreement PDF"), upload_to="private/agreements/%Y/%m/")
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    signer_name = models.CharField(_("signed by"), max_length=100)
    signed_at = models.DateTimeField(_("signed"))
    signer_ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    signer_user_agent = models.CharField(_("browser"), max_length=300, blank=True)
    code = models.ForeignKey(OneTimeCode, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    channel = models.CharField(_("signed through"), max_length=10, choices=Channel.choices, default=Channel.PORTAL)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("scan uploaded by"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="+",
    )
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("scan confirmed by"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="+",
    )
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.IN_FORCE)
    missed_count = models.PositiveSmallIntegerField(_("missed installments"), default=0)
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)

    class Meta:
        ordering = ["-signed_at", "-pk"]
        verbose_name = _("agreement")
        verbose_name_plural = _("agreements")
        indexes = [models.Index(fields=["status", "signed_at"], name="agreement_status_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["case"], condition=Q(status="in_force"), name="one_agreement_in_force_per_case"
            ),
            # A portal signature carries its one-time code; a branch signature its two different staff.
            models.CheckConstraint(
                condition=(
                    Q(channel="portal", code__isnull=False, uploaded_by__isnull=True, confirmed_by__isnull=True)
                    | (
                        Q(channel="branch", code__isnull=True, uploaded_by__isnull=False, confirmed_by__isnull=False)
                        & ~Q(uploaded_by=F("confirmed_by"))
                    )
                ),
                name="agreement_signature_by_channel",
            ),
        ]

    def __str__(self) -> str:
        return self.number

    def save(self, *args, **kwargs):
        """Once signed, the signature fields never change; on PostgreSQL a trigger refuses it as well."""
        update_fields = kwargs.get("update_fields")
        checked = self.SIGNATURE_FIELDS if update_fields is None else [
            name for name in self.SIGNATURE_FIELDS if name.removesuffix("_id") in update_fields or name in update_fields
        ]
        if not self._state.adding and checked:
            stored = type(self).objects.filter(pk=self.pk).values(*checked).first() or {}
            current = {name: self.pdf.name if name == "pdf" else getattr(self, name) for name in checked}
            changed = sorted(name for name in stored if stored[name] != current[name])
            if changed:
                raise SignatureChanged(changed)
        super().save(*args, **kwargs)


class BranchSignature(models.Model):
    """The scan of an agreement the cardholder signed on paper at a branch: uploaded by one staff member, confirmed
    (the agreement is then signed from it) or rejected by a supervisor of the case's team who did not upload it."""

    class Status(models.TextChoices):
        PENDING = "pending", _("awaiting confirmation")
        CONFIRMED = "confirmed", _("confirmed")
        REJECTED = "rejected", _("rejected")

    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="branch_signatures")
    offer = models.ForeignKey(Offer, verbose_name=_("offer"), on_delete=models.PROTECT, related_name="+")
    scan = models.FileField(_("signed scan"), upload_to="private/agreements/%Y/%m/")
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    size = models.PositiveIntegerField(_("size"))
    original_name = models.CharField(_("file name"), max_length=255, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("uploaded by"), on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(_("uploaded"))
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("decided by"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="+",
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decision_reason = models.TextField(_("decision reason"), blank=True)
    agreement = models.OneToOneField(
        Agreement, null=True, blank=True, on_delete=models.PROTECT, related_name="branch_signature"
    )

    class Meta:
        ordering = ["-uploaded_at", "-pk"]
        verbose_name = _("branch signature")
        verbose_name_plural = _("branch signatures")
        constraints = [
            models.UniqueConstraint(
                fields=["case"], condition=Q(status="pending"), name="one_pending_branch_signature_per_case"
            ),
            models.CheckConstraint(condition=~Q(decided_by=F("uploaded_by")), name="branch_signature_two_people"),
        ]

    def __str__(self) -> str:
        return f"branch signature {self.pk} on case {self.case_id}"


class SignatureChanged(ValueError):
    """Someone tried to change what the cardholder signed."""

    def __init__(self, fields: list[str]) -> None:
        super().__init__(f"a signed agreement's {', '.join(fields)} cannot change")
        self.fields = fields


class Installment(models.Model):
    class Status(models.TextChoices):
        DUE = "due", _("due")
        PAID = "paid", pgettext_lazy("installment status", "paid")
        MISSED = "missed", _("missed")

    agreement = models.ForeignKey(Agreement, on_delete=models.PROTECT, related_name="installments")
    number = models.PositiveSmallIntegerField(_("number"))
    due_date = models.DateField(_("due date"))
    amount = models.DecimalField(_("amount"), **MONEY)
    principal = models.DecimalField(_("principal"), **MONEY)
    interest = models.DecimalField(_("interest"), **MONEY)
    fee = models.DecimalField(_("fee"), **MONEY)
    paid_amount = models.DecimalField(_("paid"), **MONEY, default=Decimal("0"))
    paid_on = models.DateField(_("paid on"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DUE)

    class Meta:
        ordering = ["agreement", "number"]
        verbose_name = _("installment")
        verbose_name_plural = _("installments")
        indexes = [models.Index(fields=["status", "due_date"], name="installment_due_idx")]
        constraints = [
            models.UniqueConstraint(fields=["agreement", "number"], name="one_installment_per_number"),
            models.CheckConstraint(condition=Q(paid_amount__gte=0), name="installment_paid_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.agreement_id} #{self.number}"

    @property
    def outstanding(self) -> Decimal:
        """What is still owed on this installment (never below zero)."""
        return max(self.amount - self.paid_amount, Decimal("0.00"))


class InstallmentAllocation(models.Model):
    """How much of one payment went to one installment, so a replayed payment is never counted twice."""

    installment = models.ForeignKey(Installment, on_delete=models.PROTECT, related_name="allocations")
    payment = models.ForeignKey("cases.Payment", on_delete=models.PROTECT, related_name="installment_allocations")
    amount = models.DecimalField(_("amount"), **MONEY)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["installment", "payment"], name="one_allocation_per_payment"),
        ]

    def __str__(self) -> str:
        return f"{self.amount} → {self.installment_id}"


class Reminder(models.Model):
    """One reminder of one installment; the unique (installment, kind) row makes it go out once."""

    class Kind(models.TextChoices):
        BEFORE = "before", _("three days before")
        DUE_DAY = "due_day", _("on the due day")
        AFTER_MISS = "after_miss", _("the day after a miss")

    installment = models.ForeignKey(Installment, on_delete=models.PROTECT, related_name="reminders")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    message = models.ForeignKey(
        "negotiation.OutboundMessage", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["installment", "kind"], name="one_reminder_per_kind")]

    def __str__(self) -> str:
        return f"{self.kind} reminder for {self.installment_id}"


class SurveyResponse(models.Model):
    """The cardholder's satisfaction after completing an agreement."""

    agreement = models.OneToOneField(Agreement, on_delete=models.PROTECT, related_name="survey")
    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="surveys")
    score = models.PositiveSmallIntegerField(_("score"), validators=[MinValueValidator(1), MaxValueValidator(5)])
    comment = models.TextField(_("comment"), blank=True)
    at = models.DateTimeField(_("time"))

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name = _("satisfaction survey")
        verbose_name_plural = _("satisfaction surveys")
        indexes = [models.Index(fields=["at"], name="survey_at_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(score__gte=1, score__lte=5), name="survey_score_1_to_5"),
        ]

    def __str__(self) -> str:
        return f"{self.score} on case {self.case_id}"
