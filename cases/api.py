from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Role
from cases.imports import accounts_import
from cases.models import Bucket, Case, CaseStatus, Classification, Payment
from cases.selectors import WorklistFilters, visible_cases, worklist_for
from cases.serializers import CaseDetailSerializer, CaseListSerializer
from cases.services import case_transition, payment_record
from compliance.services import REVEALABLE_FIELDS, personal_data_reveal
from config import bounds
from config.schema import BAD_REQUEST


class WorklistFilterSerializer(serializers.Serializer):
    """The worklist filters, shared by the list API and the worklist page."""

    status = serializers.ChoiceField(choices=CaseStatus.choices, required=False, allow_blank=True)
    classification = serializers.ChoiceField(choices=Classification.choices, required=False, allow_blank=True)
    bucket = serializers.ChoiceField(choices=Bucket.choices, required=False, allow_blank=True)
    dpd_min = bounds.api_days_past_due(required=False, allow_null=True)
    dpd_max = bounds.api_days_past_due(required=False, allow_null=True)
    amount_min = bounds.api_amount(required=False, allow_null=True)
    amount_max = bounds.api_amount(required=False, allow_null=True)
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
        case = get_object_or_404(
            visible_cases(request.user).select_related("account__debtor", "assigned_to", "team"), pk=pk
        )
        return Response(CaseDetailSerializer(case, context={"request": request}).data)


class CaseTransitionApi(APIView):
    class InputSerializer(serializers.Serializer):
        name = serializers.ChoiceField(choices=Case.TRANSITION_NAMES)
        reason = serializers.CharField(required=False, allow_blank=True, max_length=500, default="")

    @extend_schema(
        request=InputSerializer,
        responses={200: CaseDetailSerializer},
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


class IsSupervisorOrAdmin(BasePermission):
    """Imports and payments change balances for the whole portfolio: supervisors and admins only
    (the card system calls with the token of a user whose role is admin)."""

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(
            user and user.is_authenticated and (user.role in (Role.SUPERVISOR, Role.ADMIN) or user.is_superuser)
        )


class ImportErrorSerializer(serializers.Serializer):
    row = serializers.IntegerField(help_text="line in the file; the header is row 1")
    column = serializers.CharField()
    message = serializers.CharField()


class ImportResultSerializer(serializers.Serializer):
    batch = serializers.IntegerField()
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    errors = ImportErrorSerializer(many=True)


class AccountImportApi(APIView):
    permission_classes = [IsSupervisorOrAdmin]
    parser_classes = [MultiPartParser]

    class InputSerializer(serializers.Serializer):
        file = serializers.FileField()
        encoding = serializers.CharField(
            required=False,
            max_length=20,
            help_text="e.g. gb18030; by default UTF-8 (with or without BOM), else GB18030",
        )

    @extend_schema(
        request={"multipart/form-data": InputSerializer},
        responses={
            200: ImportResultSerializer,
            400: OpenApiResponse(
                BAD_REQUEST, description="The file cannot be decoded or is not CSV; nothing was stored."
            ),
            403: OpenApiResponse(description="Only supervisors and admins import."),
        },
        description="Import card accounts (the format of `manage.py import_accounts`). Rows that break a rule are "
        "listed in `errors` with row, column and reason; the other rows are applied. Importing the same file "
        "again changes nothing.",
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        upload = data.validated_data["file"]
        batch = accounts_import(
            file=upload, filename=upload.name, uploaded_by=request.user, encoding=data.validated_data.get("encoding")
        )
        return Response(ImportResultSerializer(batch.summary()).data)


class PaymentSerializer(serializers.ModelSerializer):
    account_ref = serializers.CharField(source="account.external_ref")

    class Meta:
        model = Payment
        fields = [
            "id",
            "external_ref",
            "account_ref",
            "amount",
            "paid_at",
            "days_past_due",
            "to_interest",
            "to_fees",
            "to_principal",
            "unapplied",
        ]


class PaymentCreateApi(APIView):
    permission_classes = [IsSupervisorOrAdmin]

    class InputSerializer(serializers.Serializer):
        account_ref = serializers.CharField(max_length=40)
        amount = bounds.api_amount(min_value=None)
        paid_at = bounds.ApiDateTimeField()  # a future one is the service's paid_in_future
        external_ref = serializers.CharField(max_length=64)

    @extend_schema(
        request=InputSerializer,
        responses={
            201: PaymentSerializer,
            200: OpenApiResponse(
                PaymentSerializer, description="The same payment was already recorded; nothing changed."
            ),
            400: OpenApiResponse(
                BAD_REQUEST,
                description="unknown_account, invalid_amount, paid_in_future, or duplicate_payment (the "
                "external_ref was recorded with different content).",
            ),
            403: OpenApiResponse(description="Only supervisors and admins record payments."),
        },
        description="Record a payment from the card system, idempotent on `external_ref`. It is split over "
        "the overdue parts: up to 90 days past due interest, fees, then principal; from 91 days principal first.",
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        result = payment_record(actor=request.user, **data.validated_data)
        return Response(
            PaymentSerializer(result.payment).data,
            status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK,
        )


class RevealSerializer(serializers.Serializer):
    field = serializers.ChoiceField(choices=REVEALABLE_FIELDS)
    value = serializers.CharField()


class CaseRevealApi(APIView):
    class InputSerializer(serializers.Serializer):
        field = serializers.ChoiceField(choices=REVEALABLE_FIELDS)
        reason = serializers.CharField(required=False, allow_blank=True, max_length=500, default="")

    @extend_schema(
        request=InputSerializer,
        responses={
            200: RevealSerializer,
            400: OpenApiResponse(BAD_REQUEST, description="reason_required: the reason is empty."),
            403: OpenApiResponse(description="The caller's role does not reveal personal data (administrators)."),
            404: OpenApiResponse(description="No such case, or not one the caller may see."),
        },
        description="The cardholder's unmasked national id, mobile or email, one field at a time and for a "
        "stated reason. Every reveal is recorded in the audit log (who, which field, why), never the value. "
        "Everywhere else these fields are masked.",
    )
    def post(self, request, pk: int):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        case = get_object_or_404(visible_cases(request.user), pk=pk)
        value = personal_data_reveal(case_id=case.pk, actor=request.user, **data.validated_data)
        response = Response(RevealSerializer({"field": data.validated_data["field"], "value": value}).data)
        response["Cache-Control"] = "no-store"
        return response
