from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from cases.selectors import visible_cases
from compliance.masking import mask_mobile
from compliance.policy import Purpose
from negotiation.models import Channel, Contact, Outcome, Party
from negotiation.services import contact_check, contact_record


class ReasonSerializer(serializers.Serializer):
    code = serializers.CharField()
    detail = serializers.CharField()


class DecisionSerializer(serializers.Serializer):
    allowed = serializers.BooleanField()
    reasons = ReasonSerializer(many=True)
    next_allowed_at = serializers.DateTimeField(allow_null=True)
    policy_version = serializers.IntegerField(source="policy.version")


class ContactCheckApi(APIView):
    class InputSerializer(serializers.Serializer):
        channel = serializers.ChoiceField(choices=Channel.choices)
        at = serializers.DateTimeField(required=False)
        party = serializers.ChoiceField(choices=Party.choices, default=Party.DEBTOR)
        purpose = serializers.ChoiceField(choices=[Purpose.COLLECTION, Purpose.SERVICE], default=Purpose.COLLECTION)
        number = serializers.CharField(required=False, allow_blank=True, max_length=20, default="")

    @extend_schema(
        request=InputSerializer,
        responses=DecisionSerializer,
        description="May this contact happen at `at` (default now)? The time of day is judged in the "
        "cardholder's zone; `next_allowed_at` is the earliest moment it would be allowed, or null.",
    )
    def post(self, request, pk: int):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        case = get_object_or_404(visible_cases(request.user), pk=pk)
        decision = contact_check(case_id=case.pk, actor=request.user, path="api", **data.validated_data)
        return Response(DecisionSerializer(decision).data)


class ContactSerializer(serializers.ModelSerializer):
    number = serializers.SerializerMethodField()

    class Meta:
        model = Contact
        fields = [
            "id", "case", "channel", "direction", "party", "number", "outcome", "duration_seconds", "notes",
            "next_step", "at", "recorded_by",
        ]

    def get_number(self, contact: Contact) -> str:
        return mask_mobile(contact.number)


class ContactCreateApi(APIView):
    class InputSerializer(serializers.Serializer):
        channel = serializers.ChoiceField(choices=Channel.choices)
        outcome = serializers.ChoiceField(choices=Outcome.choices)
        at = serializers.DateTimeField(required=False)
        party = serializers.ChoiceField(choices=Party.choices, default=Party.DEBTOR)
        direction = serializers.ChoiceField(choices=Contact.Direction.choices, default=Contact.Direction.OUTBOUND)
        number = serializers.CharField(required=False, allow_blank=True, max_length=20, default="")
        duration_seconds = serializers.IntegerField(required=False, min_value=0, allow_null=True)
        notes = serializers.CharField(required=False, allow_blank=True, max_length=4000, default="")
        next_step = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")

    @extend_schema(
        request=InputSerializer,
        responses={
            201: ContactSerializer,
            409: inline_serializer(
                "ContactForbidden",
                {
                    "code": serializers.CharField(),
                    "detail": serializers.CharField(),
                    "allowed": serializers.BooleanField(),
                    "reasons": ReasonSerializer(many=True),
                    "next_allowed_at": serializers.DateTimeField(allow_null=True),
                },
            ),
        },
        description="Record a contact that was made (a dialer posts its calls). An outbound contact the "
        "policy forbids is refused with 409 and the gate's reasons; nothing is stored but the decision.",
    )
    def post(self, request, pk: int):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        case = get_object_or_404(visible_cases(request.user), pk=pk)
        contact = contact_record(case_id=case.pk, actor=request.user, path="api", **data.validated_data)
        return Response(ContactSerializer(contact).data, status=status.HTTP_201_CREATED)
