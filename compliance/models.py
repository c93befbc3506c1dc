import hashlib
import json

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils.translation import gettext_lazy as _

from compliance.reasons import reason_text


class AuditEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AuditLogIsAppendOnly(_("Audit events cannot be changed."))

    def delete(self):
        raise AuditLogIsAppendOnly(_("Audit events cannot be deleted."))


class AuditLogIsAppendOnly(Exception):
    pass


class AuditEvent(models.Model):
    """One write anywhere in Accord. Append-only and hash-chained: each hash covers the previous one."""

    class ActorKind(models.TextChoices):
        STAFF = "staff", _("staff")
        CARDHOLDER = "cardholder", _("cardholder")
        SYSTEM = "system", _("system")

    at = models.DateTimeField(_("time"), db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_kind = models.CharField(max_length=12, choices=ActorKind.choices)
    actor_label = models.CharField(max_length=150, blank=True)
    action = models.CharField(_("action"), max_length=80, db_index=True)
    target_type = models.CharField(max_length=80, blank=True)
    target_id = models.CharField(max_length=40, blank=True)
    case_id = models.BigIntegerField(null=True, blank=True, help_text="the case the event concerns, if any")
    changes = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
    reason = models.TextField(blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-pk"]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        indexes = [
            models.Index(fields=["target_type", "target_id"], name="audit_target_idx"),
            models.Index(fields=["case_id", "-at"], name="audit_case_idx"),
            models.Index(fields=["actor", "-at"], name="audit_actor_idx"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.action}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise AuditLogIsAppendOnly(_("Audit events cannot be changed."))
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AuditLogIsAppendOnly(_("Audit events cannot be deleted."))

    def content(self) -> dict:
        """What the hash covers besides the previous hash."""
        return {
            "at": self.at.isoformat(),
            "actor": self.actor_id,
            "actor_kind": self.actor_kind,
            "actor_label": self.actor_label,
            "action": self.action,
            "target_type": self.target_type,
            "target_id": self.target_id,
            "case_id": self.case_id,
            "changes": self.changes,
            "reason": self.reason,
            "ip": self.ip,
        }

    def compute_hash(self) -> str:
        payload = json.dumps(
            {"prev": self.prev_hash, **self.content()}, cls=DjangoJSONEncoder, sort_keys=True, ensure_ascii=False
        )
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()


class ContactPolicy(models.Model):
    """One jurisdiction's contact rules at one version. Editing makes a new version; each decision
    records the version it used."""

    jurisdiction = models.CharField(_("jurisdiction"), max_length=2)
    version = models.PositiveIntegerField(_("version"))
    contact_start = models.TimeField(_("contact allowed from"))
    contact_end = models.TimeField(_("contact allowed until"))
    daily_attempt_limit = models.PositiveSmallIntegerField(
        _("call attempts a day to one number"), null=True, blank=True
    )
    daily_conversation_limit = models.PositiveSmallIntegerField(_("conversations a day"), null=True, blank=True)
    weekly_attempt_limit = models.PositiveSmallIntegerField(_("call attempts in seven days"), null=True, blank=True)
    cooling_off_days = models.PositiveSmallIntegerField(_("quiet days after a conversation"), null=True, blank=True)
    allowed_parties = models.JSONField(_("parties who may be contacted"), default=list)
    contact_person_when_unreachable = models.BooleanField(
        _("contact persons only when the cardholder is unreachable"), default=False
    )
    location_calls = models.PositiveSmallIntegerField(_("location calls to third parties"), default=0)
    agreement_stops_collection = models.BooleanField(_("a kept agreement stops collection"), default=False)
    retention_years = models.PositiveSmallIntegerField(_("records kept at least (years)"), default=2)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT)

    class Meta:
        ordering = ["jurisdiction", "-version"]
        verbose_name = _("contact policy")
        verbose_name_plural = _("contact policies")
        constraints = [
            models.UniqueConstraint(fields=["jurisdiction", "version"], name="contact_policy_version_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.jurisdiction} v{self.version}"

    def rules(self):
        from compliance.policy import PolicyRules

        return PolicyRules(
            jurisdiction=self.jurisdiction,
            version=self.version,
            contact_start=self.contact_start,
            contact_end=self.contact_end,
            daily_attempt_limit=self.daily_attempt_limit,
            daily_conversation_limit=self.daily_conversation_limit,
            weekly_attempt_limit=self.weekly_attempt_limit,
            cooling_off_days=self.cooling_off_days,
            allowed_parties=frozenset(self.allowed_parties),
            contact_person_when_unreachable=self.contact_person_when_unreachable,
            location_calls=self.location_calls,
            agreement_stops_collection=self.agreement_stops_collection,
        )


class Hold(models.Model):
    """Stops contact on a case without changing its state, until it is lifted (or expires)."""

    class Kind(models.TextChoices):
        DISPUTE = "dispute", _("dispute")
        BREATHING_SPACE = "breathing_space", _("breathing space")
        COMPLAINT = "complaint", _("complaint under investigation")
        DECEASED = "deceased", _("deceased")
        BANKRUPTCY = "bankruptcy", _("bankruptcy")
        AGREEMENT_IN_FORCE = "agreement_in_force", _("agreement in force")

    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="holds")
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    reason = models.TextField(_("reason"))
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    set_at = models.DateTimeField(_("set"))
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    lifted_at = models.DateTimeField(_("lifted"), null=True, blank=True)
    lift_reason = models.TextField(_("why lifted"), blank=True)
    # Reasons the system wrote, as a code and parameters (compliance.reasons); the text fields keep them in
    # the bank's language. Empty for what a person typed.
    reason_code = models.CharField(max_length=40, blank=True)
    reason_params = models.JSONField(default=dict, blank=True)
    lift_reason_code = models.CharField(max_length=40, blank=True)
    lift_reason_params = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-set_at", "-pk"]
        verbose_name = _("hold")
        verbose_name_plural = _("holds")
        indexes = [models.Index(fields=["case", "lifted_at"], name="hold_case_active_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["case", "kind"], condition=models.Q(lifted_at__isnull=True), name="one_active_hold_per_kind"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.case_id})"

    @property
    def reason_text(self) -> str:
        """Why it was set, in the reader's language when the system set it; as typed otherwise."""
        return reason_text(self.reason_code, self.reason_params, self.reason)

    @property
    def lift_reason_text(self) -> str:
        return reason_text(self.lift_reason_code, self.lift_reason_params, self.lift_reason)


class ContactDecision(models.Model):
    """What the policy engine said about one contact on one case, and which policy version said it."""

    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="contact_decisions")
    channel = models.CharField(_("channel"), max_length=20)
    party = models.CharField(_("party"), max_length=20)
    purpose = models.CharField(_("purpose"), max_length=12)
    at = models.DateTimeField(_("contact time"))
    allowed = models.BooleanField(_("allowed"))
    reasons = models.JSONField(_("reasons"), default=list, blank=True)
    reason_codes = models.JSONField(default=list, blank=True)
    next_allowed_at = models.DateTimeField(_("next allowed"), null=True, blank=True)
    policy = models.ForeignKey(ContactPolicy, on_delete=models.PROTECT, related_name="decisions")
    asked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    path = models.CharField(_("asked through"), max_length=30)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("contact decision")
        verbose_name_plural = _("contact decisions")
        indexes = [
            models.Index(fields=["allowed", "-created_at"], name="decision_allowed_idx"),
            models.Index(fields=["case", "-created_at"], name="decision_case_idx"),
            models.Index(fields=["asked_by", "allowed", "-created_at"], name="decision_asker_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.channel} {'allowed' if self.allowed else 'refused'} @ {self.at:%Y-%m-%d %H:%M}"


class ScreeningTerm(models.Model):
    """A word or phrase that must not appear in what collectors write or send."""

    class Category(models.TextChoices):
        THREAT = "threat", _("threat or violence")
        ABUSE = "abuse", _("abuse or insult")
        IMPERSONATION = "impersonation", _("impersonating courts, police or officials")
        DISCLOSURE = "disclosure", _("disclosure to third parties")
        FALSE_CLAIM = "false_claim", _("false or misleading claim")

    language = models.CharField(_("language"), max_length=10, choices=settings.LANGUAGES)
    category = models.CharField(_("category"), max_length=20, choices=Category.choices)
    term = models.CharField(_("word or phrase"), max_length=100)
    active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["language", "category", "term"]
        verbose_name = _("screening term")
        verbose_name_plural = _("screening terms")
        constraints = [models.UniqueConstraint(fields=["language", "term"], name="screening_term_unique")]

    def __str__(self) -> str:
        return self.term


class ScreeningHit(models.Model):
    """Screened text that matched the lexicon: a blocked send, a refused template, or a flagged note."""

    class Source(models.TextChoices):
        NOTE = "note", _("contact note")
        MESSAGE = "message", _("outgoing message")
        TEMPLATE = "template", _("message template")

    class Action(models.TextChoices):
        BLOCKED = "blocked", _("blocked")
        FLAGGED = "flagged", _("flagged")

    source = models.CharField(_("source"), max_length=10, choices=Source.choices)
    action = models.CharField(_("action"), max_length=10, choices=Action.choices)
    case = models.ForeignKey("cases.Case", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT)
    terms = models.JSONField(_("matched terms"), default=list)
    categories = models.JSONField(_("categories"), default=list)
    excerpt = models.CharField(_("excerpt"), max_length=300)
    source_ref = models.CharField(max_length=80, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("screening hit")
        verbose_name_plural = _("screening hits")
        indexes = [models.Index(fields=["author", "-created_at"], name="screening_hit_author_idx")]

    def __str__(self) -> str:
        return f"{self.get_source_display()}: {', '.join(self.terms)}"


class Complaint(models.Model):
    """A cardholder's complaint, decided within its SLA (CN: 15 days, 30 if complex, +30 approved)."""

    class Channel(models.TextChoices):
        PHONE = "phone", _("phone")
        PORTAL = "portal", _("portal")
        EMAIL = "email", _("email")
        LETTER = "letter", _("letter")
        BRANCH = "branch", _("branch")
        REGULATOR = "regulator", _("regulator referral")

    class Category(models.TextChoices):
        CONTACT_CONDUCT = "contact_conduct", _("collector's conduct")
        CONTACT_FREQUENCY = "contact_frequency", _("too many or untimely contacts")
        THIRD_PARTY = "third_party", _("contact with third parties")
        AMOUNT = "amount", _("disputed amount or fees")
        PLAN = "plan", _("repayment plan")
        PRIVACY = "privacy", _("personal data")
        OTHER = "other", _("other")

    class Status(models.TextChoices):
        RECEIVED = "received", _("received")
        ACKNOWLEDGED = "acknowledged", _("acknowledged")
        RESOLVED = "resolved", _("resolved")

    class Outcome(models.TextChoices):
        UPHELD = "upheld", _("upheld")
        PARTLY_UPHELD = "partly_upheld", _("partly upheld")
        NOT_UPHELD = "not_upheld", _("not upheld")
        WITHDRAWN = "withdrawn", _("withdrawn")

    case = models.ForeignKey("cases.Case", null=True, blank=True, on_delete=models.PROTECT, related_name="complaints")
    channel = models.CharField(_("channel"), max_length=12, choices=Channel.choices)
    category = models.CharField(_("category"), max_length=20, choices=Category.choices)
    description = models.TextField(_("description"))
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.RECEIVED)
    received_at = models.DateTimeField(_("received"))
    acknowledged_at = models.DateTimeField(_("acknowledged"), null=True, blank=True)
    complex = models.BooleanField(_("complex"), default=False)
    extended = models.BooleanField(_("extended with approval"), default=False)
    extension_approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    due_at = models.DateTimeField(_("decide by"))
    warned_at = models.DateTimeField(_("deadline warning sent"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=15, choices=Outcome.choices, blank=True)
    resolution = models.TextField(_("resolution"), blank=True)
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    handler = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="complaints_handled"
    )

    class Meta:
        ordering = ["due_at", "pk"]
        verbose_name = _("complaint")
        verbose_name_plural = _("complaints")
        indexes = [models.Index(fields=["status", "due_at"], name="complaint_open_due_idx")]

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_category_display()}"
