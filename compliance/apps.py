from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class ComplianceConfig(AppConfig):
    name = "compliance"
    verbose_name = _("Compliance")

    def ready(self) -> None:
        from compliance.services import policies_ensure_shipped, screening_terms_ensure_shipped

        post_migrate.connect(policies_ensure_shipped, sender=self, dispatch_uid="compliance.policies")
        post_migrate.connect(screening_terms_ensure_shipped, sender=self, dispatch_uid="compliance.screening_terms")
