from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class NegotiationConfig(AppConfig):
    name = "negotiation"
    verbose_name = _("Negotiation")

    def ready(self) -> None:
        from negotiation.services import message_templates_ensure_shipped, strategy_steps_ensure_shipped

        post_migrate.connect(strategy_steps_ensure_shipped, sender=self, dispatch_uid="negotiation.strategy")
        post_migrate.connect(message_templates_ensure_shipped, sender=self, dispatch_uid="negotiation.templates")
