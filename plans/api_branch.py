"""The branch signature API: upload the scan of an agreement signed on paper, and a supervisor's confirmation or
rejection. Visibility as on every page: the case must be among visible_cases(user), else 404."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from cases.selectors import visible_cases
from plans.branch import branch_signature_confirm, branch_signature_reject, branch_signature_upload
from plans.models import Agreement, BranchSignature


class BranchSignatureSerializer(serializers.ModelSerializer):
    agreement_number = serializers.CharField(source="agreement.number", default=None, read_only=True)

    class Meta:
        model = BranchSignature
        fields = ["id", "case", "offer", "sha256", "size", "original_name", "status", "uploaded_by", "uploaded_at",
                  "decided_by", "decided_at", "decision_reason", "agreement", "agreement_number"]


class BranchAgreementSerializer(serializers.ModelSerializer):
    class Meta:
        model = Agreement
        fields = ["id", "case", "offer", "number", "channel", "sha256", "signer_name", "signed_at", "uploaded_by",
                  "confirmed_by", "status"]


class CaseBranchSignaturesApi(APIView):
    parser_classes = [MultiPartParser, FormParser]

    class InputSerializer(serializers.Serializer):
        offer = serializers.IntegerField(help_text="the case's offer the cardholder signed on paper")
        file = serializers.FileField(help_text="the signed agreement's scan, a PDF of at most BRANCH_SCAN_MAX_BYTES")

    @extend_schema(responses=BranchSignatureSerializer(many=True), description="The case's branch signatures.")
    def get(self, request, pk: int):
        case = get_object_or_404(visible_cases(request.user), pk=pk)
        return Response(BranchSignatureSerializer(case.branch_signatures.select_related("agreement"), many=True).data)

    @extend_schema(
        request={"multipart/form-data": InputSerializer},
        responses={201: BranchSignatureSerializer},
        description="The case's collector, a supervisor of its team or an admin uploads the scan of an agreement the "
        "cardholder signed on paper at a branch, for one ready, offered or accepted offer of a case in plan. The type "
        "is judged by the content (`%PDF-`; else 400 `scan_not_pdf`), the size by BRANCH_SCAN_MAX_BYTES (400 "
        "`scan_too_large`). Nothing is signed until another person confirms it; one scan per case awaits at a time "
        "(409 `branch_signature_pending`).",
    )
    def post(self, request, pk: int):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        case = get_object_or_404(visible_cases(request.user), pk=pk)
        signature = branch_signature_upload(
            case_id=case.pk, offer_id=data.validated_data["offer"], upload=data.validated_data["file"],
            actor=request.user,
        )
        return Response(BranchSignatureSerializer(signature).data, status=status.HTTP_201_CREATED)


class BranchSignatureReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=1000, default="")


def _visible_signature(user, pk: int) -> BranchSignature:
    return get_object_or_404(BranchSignature.objects.filter(case__in=visible_cases(user)), pk=pk)


class BranchSignatureConfirmApi(APIView):
    @extend_schema(
        request=None,
        responses=BranchAgreementSerializer,
        description="A supervisor of the case's team or an admin who did not upload the scan confirms it (403 for "
        "the uploader): the agreement is signed from it (channel `branch`, the scan as its document and SHA-256), "
        "the installments are created and the case moves plan → signed_agreement → follow_up.",
    )
    def post(self, request, pk: int):
        signature = _visible_signature(request.user, pk)
        agreement = branch_signature_confirm(signature_id=signature.pk, actor=request.user)
        return Response(BranchAgreementSerializer(agreement).data)


class BranchSignatureRejectApi(APIView):
    @extend_schema(
        request=BranchSignatureReasonSerializer,
        responses=BranchSignatureSerializer,
        description="The same decider rejects the scan with a written reason (400 `reason_required` without one); "
        "nothing is signed.",
    )
    def post(self, request, pk: int):
        data = BranchSignatureReasonSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        signature = _visible_signature(request.user, pk)
        signature = branch_signature_reject(
            signature_id=signature.pk, actor=request.user, reason=data.validated_data["reason"]
        )
        return Response(BranchSignatureSerializer(signature).data)
