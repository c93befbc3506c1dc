import hashlib
import json

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils.translation import gettext_lazy as _


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
