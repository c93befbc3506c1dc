from django.conf import settings
from django.http import FileResponse
from django.shortcuts import get_object_or_404
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Role
from cases.imports import ImportFileTooLarge, failure_message, import_batch_queue, import_errors_export
from cases.models import Bucket, Case, CaseStatus, Classification, ImportBatch, Payment
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
        description="Run one state-machine transition. 409 names the failed guard (the missing fact, e.g. "
        "`agreement_not_signed`, `installments_not_all_paid`, `no_installment_missed`) or a stale state; 403 when the "
        "caller's role may not take it; 400 `reason_required`. `sign_agreement`, `start_follow_up`, `complete` and "
        "`settle` are the system's (signing, the last payment, the nightly aging): no person takes them. `breach` "
        "is a supervisor's, with a reason, after a missed installment; it ends the agreement too.",
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


# What the multipart framing around a file may add to the request's length.
MULTIPART_ROOM = 64 * 1024


class RefusalSerializer(serializers.Serializer):
    code = serializers.CharField()
    detail = serializers.CharField()


class ImportErrorSerializer(serializers.Serializer):
    row = serializers.IntegerField(help_text="line in the file; the header is row 1")
    column = serializers.CharField()
    message = serializers.CharField()


class ImportBatchSerializer(serializers.ModelSerializer):
    state = serializers.CharField(source="status", help_text="queued, running, done or failed")
    rows_done = serializers.IntegerField(source="rows", help_text="data rows read so far (all of them once done)")
    errors = ImportErrorSerializer(
        many=True, help_text=f"the first {ImportBatch.ERRORS_KEPT:,} row errors; errors.csv has all of them"
    )
    errors_url = serializers.SerializerMethodField()
    failure = serializers.SerializerMethodField(help_text="why a failed batch failed, in the caller's language")
    url = serializers.SerializerMethodField()

    class Meta:
        model = ImportBatch
        fields = [
            "id",
            "url",
            "kind",
            "state",
            "filename",
            "sha256",
            "rows_total",
            "rows_done",
            "created",
            "updated",
            "unchanged",
            "error_count",
            "errors",
            "errors_url",
            "failure_code",
            "failure",
            "queued_at",
            "started_at",
            "finished_at",
        ]

    def get_url(self, batch) -> str:
        return reverse("api:import-detail", args=[batch.pk])

    def get_errors_url(self, batch) -> str:
        return reverse("api:import-errors", args=[batch.pk])

    def get_failure(self, batch) -> str:
        return failure_message(batch.failure_code)


def upload_size_refusal(request) -> ImportFileTooLarge | None:
    """An upload whose declared length is beyond IMPORT_MAX_BYTES (plus room for the multipart framing) is
    refused before a byte of it is read."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return None
    if length <= settings.IMPORT_MAX_BYTES + MULTIPART_ROOM:
        return None
    return ImportFileTooLarge(
        _("The upload is %(size)s; an import takes at most %(limit)s.")
        % {"size": filesizeformat(length), "limit": filesizeformat(settings.IMPORT_MAX_BYTES)},
        details={"size": length, "limit": settings.IMPORT_MAX_BYTES},
    )


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
            202: OpenApiResponse(ImportBatchSerializer, description="Queued; `Location` is the batch to poll."),
            200: OpenApiResponse(
                ImportBatchSerializer,
                description="The same file (same SHA-256) was uploaded before: nothing was queued, this is the "
                "earlier batch.",
            ),
            400: OpenApiResponse(
                BAD_REQUEST,
                description="The file cannot be decoded or is not CSV, or its header repeats a column "
                "(import_duplicate_columns), names an unknown one (import_unknown_columns) or lacks a required "
                "one (import_missing_columns); `details.columns` names them. Nothing was stored.",
            ),
            403: OpenApiResponse(description="Only supervisors and admins import."),
            413: OpenApiResponse(RefusalSerializer, description="The file is larger than IMPORT_MAX_BYTES."),
        },
        description="Queue an import of card accounts (the format of `manage.py import_accounts`). The file is "
        "checked as a whole and kept; a worker applies it in one transaction, one import at a time. Poll the "
        "batch: it ends `done` (rows that break a rule are listed in `errors` with row, column and reason, the "
        "other rows applied) or `failed` (nothing applied, `failure` says why).",
    )
    def post(self, request):
        if refusal := upload_size_refusal(request):
            raise refusal
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        upload = data.validated_data["file"]
        batch, queued = import_batch_queue(
            kind=ImportBatch.Kind.ACCOUNTS,
            file=upload,
            filename=upload.name,
            size=upload.size,
            uploaded_by=request.user,
            encoding=data.validated_data.get("encoding"),
        )
        body = ImportBatchSerializer(batch).data
        response = Response(body, status=status.HTTP_202_ACCEPTED if queued else status.HTTP_200_OK)
        response["Location"] = body["url"]
        return response


class ImportBatchApi(APIView):
    permission_classes = [IsSupervisorOrAdmin]

    @extend_schema(
        responses={200: ImportBatchSerializer, 403: OpenApiResponse(description="Supervisors and admins only.")},
        description="An import's state (`queued`, `running`, `done`, `failed`), its progress (`rows_done` of "
        "`rows_total`), its counts and its first row errors.",
    )
    def get(self, request, pk: int):
        return Response(ImportBatchSerializer(get_object_or_404(ImportBatch, pk=pk)).data)


class ImportErrorsCsvApi(APIView):
    permission_classes = [IsSupervisorOrAdmin]

    @extend_schema(
        responses={
            (200, "text/csv"): OpenApiResponse(
                OpenApiTypes.BINARY,
                description="Every row error: row, column, message (UTF-8 with BOM). Cells that a spreadsheet "
                "would run as a formula start with '. The download is audited.",
            ),
            403: OpenApiResponse(description="Supervisors and admins only."),
        },
        description="All row errors of an import as CSV.",
    )
    def get(self, request, pk: int):
        get_object_or_404(ImportBatch, pk=pk)
        batch, content = import_errors_export(batch_id=pk, actor=request.user)
        return FileResponse(
            content,
            as_attachment=True,
            filename=f"import-{batch.pk}-errors.csv",
            content_type="text/csv; charset=utf-8",
        )


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
