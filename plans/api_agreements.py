"""Signed agreements for staff: the list and detail of the agreements of the cases the caller may see
(visible_cases; anything else is 404), and the signed PDF, its SHA-256 checked and the download audited."""

from django.http import Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from cases.api import RefusalSerializer
from plans.agreements import agreement_download
from plans.models import Agreement, Installment
from plans.selectors import agreement_totals, agreements_visible
from plans.views_agreements import agreement_pdf_response


class AgreementInstallmentSerializer(serializers.ModelSerializer):
    outstanding = serializers.DecimalField(max_digits=14, decimal_places=2, read_only=True,
                                           help_text="amount − paid_amount, never below zero")

    class Meta:
        model = Installment
        fields = ["number", "due_date", "amount", "principal", "interest", "fee", "paid_amount", "paid_on",
                  "outstanding", "status"]


class AgreementTotalsSerializer(serializers.Serializer):
    payable = serializers.DecimalField(max_digits=14, decimal_places=2, help_text="the installments' sum")
    paid = serializers.DecimalField(max_digits=14, decimal_places=2)
    outstanding = serializers.DecimalField(max_digits=14, decimal_places=2)


class AgreementSerializer(serializers.ModelSerializer):
    totals = serializers.SerializerMethodField()
    pdf_url = serializers.SerializerMethodField(help_text="the signed PDF (GET, attachment)")

    class Meta:
        model = Agreement
        fields = [
            "id", "number", "case", "offer", "status", "channel", "signer_name", "signed_at", "signer_ip",
            "signer_user_agent", "sha256", "missed_count", "ended_at", "totals", "pdf_url",
        ]

    @extend_schema_field(AgreementTotalsSerializer)
    def get_totals(self, agreement: Agreement) -> dict:
        return AgreementTotalsSerializer(agreement_totals(agreement)).data

    def get_pdf_url(self, agreement: Agreement) -> str:
        return reverse("api:agreement-pdf", args=[agreement.pk], request=self.context.get("request"))


class AgreementDetailSerializer(AgreementSerializer):
    installments = AgreementInstallmentSerializer(many=True, read_only=True)

    class Meta(AgreementSerializer.Meta):
        fields = [*AgreementSerializer.Meta.fields, "installments"]


class AgreementFilterSerializer(serializers.Serializer):
    case = serializers.IntegerField(required=False, min_value=1, help_text="only the agreements of this case")


@extend_schema(parameters=[AgreementFilterSerializer])
class AgreementListApi(ListAPIView):
    """Signed agreements of the cases the caller may see, newest first (a case it may not see lists nothing)."""

    serializer_class = AgreementSerializer
    filter_backends: list = []

    def get_queryset(self):
        params = AgreementFilterSerializer(data=self.request.query_params)
        params.is_valid(raise_exception=True)
        return agreements_visible(user=self.request.user, case_id=params.validated_data.get("case"))


class AgreementDetailApi(APIView):
    @extend_schema(
        responses={200: AgreementDetailSerializer, 404: OpenApiResponse(description="Not among the caller's cases.")},
        description="The signature (signer, time, address, browser, SHA-256 of the PDF), the status and the schedule "
        "with what each installment has been paid and still owes.",
    )
    def get(self, request, pk: int):
        agreement = get_object_or_404(agreements_visible(user=request.user), pk=pk)
        return Response(AgreementDetailSerializer(agreement, context={"request": request}).data)


class AgreementPdfApi(APIView):
    http_method_names = ["get", "options"]  # a HEAD would be audited as a download that never happened

    @extend_schema(
        responses={
            (200, "application/pdf"): OpenApiTypes.BINARY,
            404: OpenApiResponse(description="Not among the caller's cases."),
            409: OpenApiResponse(RefusalSerializer, description="`hash_mismatch`: the stored file no longer has the "
                                 "SHA-256 taken at signing; it is not served and the attempt is audited."),
        },
        description="The signed agreement as an attachment, byte for byte the file whose SHA-256 was kept at signing "
        "(checked on every download). Every download is recorded in the audit log.",
    )
    def get(self, request, pk: int):
        try:
            agreement, content = agreement_download(agreement_id=pk, actor=request.user)
        except Agreement.DoesNotExist:
            raise Http404 from None
        return agreement_pdf_response(agreement, content)
