"""The portfolio totals API: the card system reports the whole portfolio each day (the overdue rate's base)."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from config import bounds
from reporting.models import PortfolioTotal
from reporting.services import may_set_portfolio_total, portfolio_total_set

RECENT_TOTALS = 90


class SetsPortfolioTotals(BasePermission):
    def has_permission(self, request, view) -> bool:
        return may_set_portfolio_total(request.user)


class PortfolioTotalSerializer(serializers.ModelSerializer):
    class Meta:
        model = PortfolioTotal
        fields = ["date", "accounts", "balance", "updated_at"]


class PortfolioTotalApi(APIView):
    """List the latest daily totals, or set one day's (a second POST for the same day corrects it)."""

    permission_classes = [SetsPortfolioTotals]

    class InputSerializer(serializers.Serializer):
        date = bounds.ApiDateField()  # a future day is the service's portfolio_total_future_date
        accounts = serializers.IntegerField(min_value=0)
        balance = serializers.DecimalField(max_digits=18, decimal_places=2, min_value=0)

    @extend_schema(responses=PortfolioTotalSerializer(many=True), description="The last 90 totals, newest first.")
    def get(self, request):
        totals = PortfolioTotal.objects.order_by("-date")[:RECENT_TOTALS]
        return Response(PortfolioTotalSerializer(totals, many=True).data)

    @extend_schema(
        request=InputSerializer,
        responses={200: PortfolioTotalSerializer, 201: PortfolioTotalSerializer},
        description="Administrators (or the card system's admin token). 201 when the day is new, 200 when corrected.",
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        total, created = portfolio_total_set(
            day=data.validated_data["date"],
            accounts=data.validated_data["accounts"],
            balance=data.validated_data["balance"],
            actor=request.user,
        )
        return Response(
            PortfolioTotalSerializer(total).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )
