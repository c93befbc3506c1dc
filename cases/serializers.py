from rest_framework import serializers

from cases.models import Case
from cases.services import transitions_for
from compliance.masking import mask_mobile, mask_national_id


class CaseListSerializer(serializers.ModelSerializer):
    number = serializers.CharField(read_only=True)
    external_ref = serializers.CharField(source="account.external_ref")
    debtor_name = serializers.CharField(source="account.debtor.full_name")
    days_past_due = serializers.SerializerMethodField()
    principal_overdue = serializers.DecimalField(source="account.principal_overdue", max_digits=14, decimal_places=2)
    interest_overdue = serializers.DecimalField(source="account.interest_overdue", max_digits=14, decimal_places=2)
    fees_overdue = serializers.DecimalField(source="account.fees_overdue", max_digits=14, decimal_places=2)
    overdue_total = serializers.DecimalField(source="account.overdue_total", max_digits=14, decimal_places=2)
    assigned_to = serializers.CharField(source="assigned_to.username", default=None)
    team = serializers.CharField(source="team.name", default=None)

    class Meta:
        model = Case
        fields = [
            "id",
            "number",
            "external_ref",
            "debtor_name",
            "status",
            "classification",
            "bucket",
            "days_past_due",
            "principal_overdue",
            "interest_overdue",
            "fees_overdue",
            "overdue_total",
            "priority",
            "next_action_on",
            "team",
            "assigned_to",
            "wilful_suggested",
        ]

    def get_days_past_due(self, case: Case) -> int:
        return case.account.days_past_due()


class CaseDetailSerializer(CaseListSerializer):
    national_id = serializers.SerializerMethodField()
    mobile = serializers.SerializerMethodField()
    city = serializers.CharField(source="account.debtor.city")
    card_last4 = serializers.CharField(source="account.card_last4")
    credit_limit = serializers.DecimalField(source="account.credit_limit", max_digits=14, decimal_places=2)
    available_transitions = serializers.SerializerMethodField()
    transitions = serializers.SerializerMethodField()

    class Meta(CaseListSerializer.Meta):
        fields = CaseListSerializer.Meta.fields + [
            "national_id",
            "mobile",
            "city",
            "card_last4",
            "credit_limit",
            "wilful_evidence",
            "opened_at",
            "closed_at",
            "available_transitions",
            "transitions",
        ]

    def get_national_id(self, case: Case) -> str:
        return mask_national_id(case.account.debtor.national_id)

    def get_mobile(self, case: Case) -> str:
        return mask_mobile(case.account.debtor.mobile)

    def get_available_transitions(self, case: Case) -> list[str]:
        return transitions_for(case, self.context["request"].user)

    def get_transitions(self, case: Case) -> list[dict]:
        return [
            {
                "name": step.name,
                "source": step.source,
                "target": step.target,
                "actor": step.actor.username if step.actor else None,
                "reason": step.reason_text,
                "at": step.at,
            }
            for step in case.transitions.select_related("actor")
        ]
