from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from cases.models import Bucket, Case, CaseStatus, Classification
from cases.selectors import WorklistFilters, visible_cases, worklist_for
from cases.serializers import CaseDetailSerializer, CaseListSerializer
from cases.services import case_transition


class WorklistFilterSerializer(serializers.Serializer):
    """The worklist filters, shared by the list API and the worklist page."""

    status = serializers.ChoiceField(choices=CaseStatus.choices, required=False, allow_blank=True)
    classification = serializers.ChoiceField(choices=Classification.choices, required=False, allow_blank=True)
    bucket = serializers.ChoiceField(choices=Bucket.choices, required=False, allow_blank=True)
    dpd_min = serializers.IntegerField(required=False, min_value=0, allow_null=True)
    dpd_max = serializers.IntegerField(required=False, min_value=0, allow_null=True)
    amount_min = serializers.DecimalField(max_digits=14, decimal_places=2, required=False, allow_null=True, min_value=0)
    amount_max = serializers.DecimalField(max_digits=14, decimal_places=2, required=False, allow_null=True, min_value=0)
    q = serializers.CharField(required=False, allow_blank=True, max_length=100)
    mine = serializers.BooleanField(required=False, default=False)

    def to_filters(self, user) -> WorklistFilters:
        data = self.validated_data
        return WorklistFilters(
            status=data.get("status", ""),
            classification=data.get("classification", ""),
            bucket=data.get("bucket", ""),
            dpd_min=data.get("dpd_min"),
            dpd_max=data.get("dpd_max"),
            amount_min=data.get("amount_min"),
            amount_max=data.get("amount_max"),
            search=data.get("q", ""),
            assigned_to=user.pk if data.get("mine") else None,
        )


@extend_schema(parameters=[WorklistFilterSerializer])
class CaseListApi(ListAPIView):
    """Open cases the caller may see, best first, with the worklist filters."""

    serializer_class = CaseListSerializer
    filter_backends: list = []

    def get_queryset(self):
        params = WorklistFilterSerializer(data=self.request.query_params)
        params.is_valid(raise_exception=True)
        return worklist_for(user=self.request.user, filters=params.to_filters(self.request.user))


class CaseDetailApi(APIView):
    @extend_schema(responses=CaseDetailSerializer)
    def get(self, request, pk: int):
        case = get_object_or_404(visible_cases(request.user).select_related("account__debtor", "assigned_to", "team"), pk=pk)
        return Response(CaseDetailSerializer(case, context={"request": request}).data)


class CaseTransitionApi(APIView):
    class InputSerializer(serializers.Serializer):
        name = serializers.ChoiceField(choices=Case.TRANSITION_NAMES)
        reason = serializers.CharField(required=False, allow_blank=True, max_length=500, default="")

    @extend_schema(
        request=InputSerializer,
        responses={200: CaseDetailSerializer},
        parameters=[OpenApiParameter("pk", int, OpenApiParameter.PATH)],
        description="Run one state-machine transition. 409 names the failed guard or a stale state; "
        "403 when the caller's role may not take it.",
    )
    def post(self, request, pk: int):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        case = get_object_or_404(visible_cases(request.user), pk=pk)
        case_transition(case_id=case.pk, actor=request.user, **data.validated_data)
        case = visible_cases(request.user).select_related("account__debtor", "assigned_to", "team").get(pk=pk)
        return Response(CaseDetailSerializer(case, context={"request": request}).data)
