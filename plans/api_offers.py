"""The offers API: a case's offers, and the supervisor's approval, rejection and withdrawal. Visibility as on
every page: the case must be among visible_cases(user), else 404."""

from decimal import Decimal

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from cases.selectors import visible_cases
from config import bounds
from plans.models import Method, Offer, PlanKind
from plans.selectors import offers_for_case
from plans.services import offer_approve, offer_create, offer_reject, offer_withdraw

# Defaults are not run through the field, so they are Decimals already (the calculator refuses anything else).
ZERO = Decimal("0")


class ApprovalReasonSerializer(serializers.Serializer):
    code = serializers.CharField()
    detail = serializers.CharField()
    allowed = serializers.JSONField(allow_null=True)
    offered = serializers.JSONField(allow_null=True)


class InstallmentLineSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    due_date = serializers.DateField()
    amount = serializers.DecimalField(max_digits=14, decimal_places=2)
    principal = serializers.DecimalField(max_digits=14, decimal_places=2)
    interest = serializers.DecimalField(max_digits=14, decimal_places=2)
    fee = serializers.DecimalField(max_digits=14, decimal_places=2)


class OfferSerializer(serializers.ModelSerializer):
    approval_reasons = ApprovalReasonSerializer(many=True)
    schedule = InstallmentLineSerializer(many=True)

    class Meta:
        model = Offer
        fields = [
            "id", "case", "kind", "method", "months", "first_due_date", "annual_rate", "monthly_fee_rate",
            "interest_waiver_pct", "fee_waiver_pct", "grace_months", "new_limit", "new_limit_expires_on",
            "principal", "interest", "fees", "financed_amount", "total_payable", "total_waived",
            "largest_installment", "disposable_income", "unaffordable", "affordability_override",
            "approval_reasons", "status", "created_by", "created_at", "decided_by", "decided_at",
            "decision_reason", "schedule",
        ]


def _rate(help_text: str) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=7, decimal_places=6, min_value=ZERO, default=ZERO, help_text=help_text)


def _percent(help_text: str) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=5, decimal_places=2, min_value=ZERO, max_value=Decimal("100"),
                                    default=ZERO, help_text=help_text)


class CaseOffersApi(APIView):
    class InputSerializer(serializers.Serializer):
        kind = serializers.ChoiceField(choices=PlanKind.choices, default=PlanKind.INSTALLMENTS)
        method = serializers.ChoiceField(choices=Method.choices, default=Method.ANNUITY)
        months = serializers.IntegerField(min_value=1, max_value=60)
        first_due_date = bounds.ApiDateField()
        annual_rate = _rate("a fraction a year: 0.12 = 12 %; annuity and equal_principal only")
        monthly_fee_rate = _rate("a fraction of the financed amount a month; flat_fee only")
        interest_waiver_pct = _percent("share of the overdue interest waived, 0–100")
        fee_waiver_pct = _percent("share of the overdue fees waived, 0–100")
        grace_months = serializers.IntegerField(min_value=0, max_value=12, default=0,
                                                help_text="months with nothing due; payment pause only")
        new_limit = bounds.api_amount(required=False, allow_null=True, default=None)
        new_limit_expires_on = bounds.ApiDateField(required=False, allow_null=True, default=None)
        affordability_override = serializers.CharField(
            required=False, allow_blank=True, max_length=1000, default="",
            help_text="why an installment above the verified disposable income is offered anyway",
        )

    @extend_schema(responses=OfferSerializer(many=True), description="The case's offers, newest first.")
    def get(self, request, pk: int):
        case = get_object_or_404(visible_cases(request.user), pk=pk)
        return Response(OfferSerializer(offers_for_case(case=case), many=True).data)

    @extend_schema(
        request=InputSerializer,
        responses={201: OfferSerializer},
        description="Offer a plan on the case's overdue balance. A case in verification (with a verified situation) "
        "moves to plan. Beyond the maker's authority the offer is `pending_approval` with `approval_reasons`, "
        "else `ready`. An installment above the verified disposable income is refused (`offer_unaffordable`) "
        "or needs `affordability_override`, by the PLAN_AFFORDABILITY setting. No plan runs over 60 months.",
    )
    def post(self, request, pk: int):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        case = get_object_or_404(visible_cases(request.user), pk=pk)
        offer = offer_create(case_id=case.pk, actor=request.user, **data.validated_data)
        return Response(OfferSerializer(offer).data, status=status.HTTP_201_CREATED)


class OfferReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=1000, default="")


class OfferActionApi(APIView):
    """approve (a supervisor of the case's team, not the maker; a pending offer), reject (the same, reason
    required), withdraw (reason required; an offer not yet accepted)."""

    action = ""

    @extend_schema(request=OfferReasonSerializer, responses=OfferSerializer)
    def post(self, request, pk: int):
        data = OfferReasonSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        offer = get_object_or_404(Offer.objects.filter(case__in=visible_cases(request.user)), pk=pk)
        service = {"approve": offer_approve, "reject": offer_reject, "withdraw": offer_withdraw}[self.action]
        offer = service(offer_id=offer.pk, actor=request.user, reason=data.validated_data["reason"])
        return Response(OfferSerializer(offer).data)
