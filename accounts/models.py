from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    COLLECTOR = "collector", _("Collector")
    SUPERVISOR = "supervisor", _("Supervisor")
    LEGAL = "legal", _("Legal")
    COMPLIANCE = "compliance", _("Compliance officer")
    ADMIN = "admin", _("Administrator")


class Team(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    supervisor = models.ForeignKey(
        "accounts.User",
        verbose_name=_("supervisor"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="supervised_teams",
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("team")
        verbose_name_plural = _("teams")

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    """A staff member. The role decides what they may see and do; the team scopes their cases."""

    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.COLLECTOR)
    team = models.ForeignKey(
        Team, verbose_name=_("team"), null=True, blank=True, on_delete=models.SET_NULL, related_name="members"
    )

    class Meta:
        verbose_name = _("staff user")
        verbose_name_plural = _("staff users")
        indexes = [models.Index(fields=["role", "team"], name="user_role_team_idx")]

    def save(self, *args, **kwargs) -> None:
        if self.role == Role.ADMIN:
            self.is_staff = True
        super().save(*args, **kwargs)
        from accounts.roles import assign_role_group

        assign_role_group(self)

    @property
    def is_collector(self) -> bool:
        return self.role == Role.COLLECTOR

    @property
    def is_supervisor(self) -> bool:
        return self.role == Role.SUPERVISOR

    @property
    def sees_all_teams(self) -> bool:
        return self.role in (Role.COMPLIANCE, Role.ADMIN) or self.is_superuser


class WorkerHeartbeat(models.Model):
    """The last time a Celery worker ran the periodic heartbeat; one row, read by /healthz."""

    worker = models.CharField(max_length=200)
    beat_at = models.DateTimeField()

    class Meta:
        verbose_name = _("worker heartbeat")

    def __str__(self) -> str:
        return f"{self.worker} @ {self.beat_at:%Y-%m-%d %H:%M:%S}"


class RecoveryCode(models.Model):
    """One single-use code for logging in without the authenticator; only a keyed hash is kept."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="recovery_codes")
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("recovery code")
        verbose_name_plural = _("recovery codes")
        constraints = [models.UniqueConstraint(fields=["user", "code_hash"], name="recovery_code_unique_per_user")]

    def __str__(self) -> str:
        return f"{self.user_id} #{self.pk}"
