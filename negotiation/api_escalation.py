"""API of letters with proof, agency placements, litigation referrals and dispute decisions.
Every lookup starts from visible_cases: a record outside the user's cases is a 404."""

from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from cases.selectors import visible_cases
from config import bounds
from negotiation import dispatch, escalation
from negotiation.models import Agency, Letter, LitigationReferral, Placement


def _visible(model, user, pk: int):
    return get_object_or_404(model.objects.filter(case__in=visible_cases(user)), pk=pk)


def _visible_case_pk(user, pk: int) -> int:
    return get_object_or_404(visible_cases(user), pk=pk).pk


class LetterSerializer(serializers.ModelSerializer):
    pdf_url = serializers.SerializerMethodField()

    class Meta:
        model = Letter
        fields = [
            "id", "case", "kind", "reference", "issued_on", "sha256", "created_by", "created_at", "dispatched_at",
            "dispatch_proof", "delivered_at", "delivery_proof", "returned_at", "pdf_url",
        ]

    def get_pdf_url(self, letter: Letter) -> str:
        return reverse("api:letter-pdf", args=[letter.pk])


class PlacementSerializer(serializers.ModelSerializer):
    data_fields = serializers.SerializerMethodField(help_text="The names of the fields handed to the agency.")

    class Meta:
        model = Placement
        fields = [
            "id", "case", "agency", "status", "proposed_by", "proposed_at", "approved_by", "approved_at", "notice",
            "debtor_notified_at", "handed_over_at", "recalled_at", "recall_reason", "data_fields",
        ]

    def get_data_fields(self, placement: Placement) -> list[str]:
        return sorted(placement.data_sent)


class ReferralSerializer(serializers.ModelSerializer):
    class Meta:
        model = LitigationReferral
        fields = [
            "id", "case", "status", "proposed_by", "proposed_at", "approved_by", "approved_at", "legal_owner",
            "filed_at", "withdrawn_at", "notes",
        ]


class ProofSerializer(serializers.Serializer):
    proof = serializers.CharField(max_length=120)
    at = bounds.ApiDateTimeField(required=False, past=True)


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=1000, default="")


# --- Letters -------------------------------------------------------------------------------------------


class CaseLettersApi(APIView):
    class InputSerializer(serializers.Serializer):
        kind = serializers.ChoiceField(choices=Letter.Kind.choices)

    @extend_schema(
        request=InputSerializer,
        responses={201: LetterSerializer, 409: OpenApiResponse(description="the contact policy forbids it now")},
        description="Issue a collection letter or lawyer letter (legal or supervisor) as PDF. The contact gate "
        "is asked first; a refusal answers 409 with the reasons and stores only the decision.",
    )
    def post(self, request, pk: int):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        letter = dispatch.letter_issue(
            case_id=_visible_case_pk(request.user, pk), kind=data.validated_data["kind"], actor=request.user
        )
        return Response(LetterSerializer(letter).data, status=status.HTTP_201_CREATED)


class LetterDispatchedApi(APIView):
    @extend_schema(request=ProofSerializer, responses=LetterSerializer,
                   description="Record that the letter was posted, with the proof (e.g. the tracking number).")
    def post(self, request, pk: int):
        data = ProofSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        letter = _visible(Letter, request.user, pk)
        letter = dispatch.letter_mark_dispatched(letter_id=letter.pk, actor=request.user, **data.validated_data)
        return Response(LetterSerializer(letter).data)


class LetterDeliveredApi(APIView):
    @extend_schema(request=ProofSerializer, responses=LetterSerializer,
                   description="Record delivery with its proof; it counts as a delivered demand toward wilful.")
    def post(self, request, pk: int):
        data = ProofSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        letter = _visible(Letter, request.user, pk)
        letter = dispatch.letter_mark_delivered(letter_id=letter.pk, actor=request.user, **data.validated_data)
        return Response(LetterSerializer(letter).data)


class LetterPdfApi(APIView):
    @extend_schema(responses={(200, "application/pdf"): OpenApiTypes.BINARY},
                   description="The letter as issued (attachment); 409 if it no longer matches its SHA-256.")
    def get(self, request, pk: int):
        try:
            letter = dispatch.letter_read(letter_id=pk, actor=request.user)
        except Letter.DoesNotExist:
            raise Http404 from None
        return letter_response(letter)


def letter_response(letter: Letter) -> FileResponse:
    response = FileResponse(
        letter.pdf.open("rb"), as_attachment=True, filename=f"{letter.reference}.pdf", content_type="application/pdf"
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


# --- Placements ----------------------------------------------------------------------------------------


class CasePlacementsApi(APIView):
    class InputSerializer(serializers.Serializer):
        agency = serializers.PrimaryKeyRelatedField(queryset=Agency.objects.filter(active=True))

    @extend_schema(request=InputSerializer, responses={201: PlacementSerializer},
                   description="Propose placing the case with an active agency.")
    def post(self, request, pk: int):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        placement = escalation.placement_propose(
            case_id=_visible_case_pk(request.user, pk), agency_id=data.validated_data["agency"].pk,
            actor=request.user,
        )
        return Response(PlacementSerializer(placement).data, status=status.HTTP_201_CREATED)


class PlacementActionApi(APIView):
    """approve (supervisor, not the proposer; escalates), notify (the cardholder, through the outbox),
    hand-over (only after the notice was sent), recall (reason required)."""

    action = ""

    @extend_schema(request=ReasonSerializer, responses=PlacementSerializer)
    def post(self, request, pk: int):
        data = ReasonSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        placement = _visible(Placement, request.user, pk)
        reason = data.validated_data["reason"]
        if self.action == "approve":
            placement = escalation.placement_approve(placement_id=placement.pk, actor=request.user, reason=reason)
        elif self.action == "notify":
            placement = escalation.placement_notify(placement_id=placement.pk, actor=request.user)
        elif self.action == "hand-over":
            placement = escalation.placement_hand_over(placement_id=placement.pk, actor=request.user)
        else:
            placement = escalation.placement_recall(placement_id=placement.pk, actor=request.user, reason=reason)
        return Response(PlacementSerializer(placement).data)


# --- Litigation ----------------------------------------------------------------------------------------


class CaseLitigationApi(APIView):
    class InputSerializer(serializers.Serializer):
        notes = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")

    @extend_schema(request=InputSerializer, responses={201: ReferralSerializer},
                   description="Propose referring the case to litigation.")
    def post(self, request, pk: int):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        referral = escalation.referral_propose(
            case_id=_visible_case_pk(request.user, pk), actor=request.user, **data.validated_data
        )
        return Response(ReferralSerializer(referral).data, status=status.HTTP_201_CREATED)


class ReferralActionApi(APIView):
    """approve (supervisor, not the proposer; escalates), file (legal), withdraw (reason required)."""

    action = ""

    class InputSerializer(ReasonSerializer):
        notes = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")

    @extend_schema(request=InputSerializer, responses=ReferralSerializer)
    def post(self, request, pk: int):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        referral = _visible(LitigationReferral, request.user, pk)
        reason = data.validated_data["reason"]
        if self.action == "approve":
            referral = escalation.referral_approve(referral_id=referral.pk, actor=request.user, reason=reason)
        elif self.action == "file":
            referral = escalation.referral_file(
                referral_id=referral.pk, actor=request.user, notes=data.validated_data["notes"]
            )
        else:
            referral = escalation.referral_withdraw(referral_id=referral.pk, actor=request.user, reason=reason)
        return Response(ReferralSerializer(referral).data)


# --- Disputes ------------------------------------------------------------------------------------------


class DisputeResolveApi(APIView):
    class InputSerializer(serializers.Serializer):
        outcome = serializers.ChoiceField(choices=escalation.DisputeOutcome.ALL)
        reason = serializers.CharField(max_length=1000)

    @extend_schema(
        request=InputSerializer,
        responses=inline_serializer(
            "DisputeResolution",
            {
                "outcome": serializers.CharField(),
                "case_status": serializers.CharField(),
                "hold": serializers.IntegerField(),
                "letter": LetterSerializer(allow_null=True),
                "letter_refused": serializers.ListField(child=serializers.DictField()),
            },
        ),
        description="A supervisor decides the open dispute: upheld closes the case, rejected issues a collection "
        "letter; both lift the dispute hold.",
    )
    def post(self, request, pk: int):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        result = escalation.dispute_resolve(
            case_id=_visible_case_pk(request.user, pk), actor=request.user, **data.validated_data
        )
        return Response({
            "outcome": result.outcome,
            "case_status": result.case.status,
            "hold": result.hold.pk,
            "letter": LetterSerializer(result.letter).data if result.letter else None,
            "letter_refused": result.letter_refused,
        })
