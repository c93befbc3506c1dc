from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class PlansConfig(AppConfig):
    name = "plans"
    verbose_name = _("Repayment plans")

    def ready(self) -> None:
        from cases.services import transition_service_register
        from cases.signals import payment_recorded
        from plans.followup import agreement_breach_by_person, on_payment_recorded
        from plans.messages import plan_templates_ensure_shipped
        from plans.services import authority_limits_ensure_shipped

        post_migrate.connect(plan_templates_ensure_shipped, sender=self, dispatch_uid="plans.templates")
        post_migrate.connect(authority_limits_ensure_shipped, sender=self, dispatch_uid="plans.authority_limits")
        payment_recorded.connect(on_payment_recorded, dispatch_uid="plans.installments_settle")
        transition_service_register(name="breach", service=agreement_breach_by_person)
