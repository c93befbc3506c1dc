"""The plans API: the schedule calculator's preview (nothing stored)."""

from decimal import Decimal

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from config import bounds
from plans.schedule import (
    HUNDRED,
    MAX_ANNUAL_RATE,
    MAX_GRACE_MONTHS,
    MAX_MONTHS,
    Method,
    ScheduleError,
    Terms,
    build,
)

ZERO = Decimal("0")


def _money(**kwargs) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=14, decimal_places=2, **kwargs)


def _percent() -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=5, decimal_places=2, min_value=ZERO, max_value=HUNDRED, default=ZERO)


class ScheduleLineSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    due_date = serializers.DateField()
    amount = _money()
    principal = _money()
    interest = _money()
    fee = _money()


class ScheduleSerializer(serializers.Serializer):
    installments = ScheduleLineSerializer(many=True)
    financed_amount = _money()
    total_payable = _money()
    total_waived = _money()
    largest_installment = _money()


class PlanPreviewApi(APIView):
    class InputSerializer(serializers.Serializer):
        principal = bounds.api_amount()
        interest = bounds.api_amount(default=ZERO)
        fees = bounds.api_amount(default=ZERO)
        method = serializers.ChoiceField(choices=Method.ALL)
        months = serializers.IntegerField(min_value=1, max_value=MAX_MONTHS)
        annual_rate = serializers.DecimalField(
            max_digits=7, decimal_places=6, min_value=ZERO, max_value=MAX_ANNUAL_RATE, default=ZERO,
            help_text="a fraction a year: 0.18 = 18 %; annuity and equal_principal only",
        )
        monthly_fee_rate = serializers.DecimalField(
            max_digits=7, decimal_places=6, min_value=ZERO, default=ZERO,
            help_text="a fraction of the financed amount a month; flat_fee only",
        )
        interest_waiver_pct = _percent()
        fee_waiver_pct = _percent()
        grace_months = serializers.IntegerField(min_value=0, max_value=MAX_GRACE_MONTHS, default=0)
        first_due_date = bounds.ApiDateField()

    @extend_schema(
        request=InputSerializer,
        responses=ScheduleSerializer,
        description="Calculate a repayment schedule without storing anything. Parts are rounded half-up to the "
        "fen and the last installment absorbs the remainder; grace months accrue nothing and only delay the "
        "first installment. Terms the calculator refuses are a 400 naming the field.",
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            schedule = build(Terms(**data.validated_data))
        except ScheduleError as error:
            raise ValidationError({error.field: [error.message]}, code=error.code) from error
        return Response(ScheduleSerializer(schedule).data)
