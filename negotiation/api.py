from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from cases.selectors import visible_cases
from compliance.masking import mask_mobile
from compliance.policy import Purpose
from negotiation.models import (
    Channel,
    Contact,
    FollowUpTask,
    HardshipReason,
    OutboundMessage,
    Outcome,
    Party,
    Promise,
    Verification,
    VerificationDocument,
)
from negotiation.selectors import tasks_due_for
from negotiation.services import (
    contact_check,
    contact_record,
    message_mark_delivered,
    promise_record,
    task_complete,
    verification_complete,
    verification_document_add,
    verification_start,
)


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


# --- Verification --------------------------------------------------------------------------------


class VerificationDocumentSerializer(serializers.ModelSerializer):
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = VerificationDocument
        fields = ["id", "kind", "original_name", "content_type", "size", "sha256", "uploaded_by", "uploaded_at",
                  "download_url"]

    def get_download_url(self, document: VerificationDocument) -> str:
        return reverse("negotiation:document-download", args=[document.pk])


class VerificationSerializer(serializers.ModelSerializer):
    documents = VerificationDocumentSerializer(many=True, read_only=True)

    class Meta:
        model = Verification
        fields = [
            "id", "case", "hardship_reason", "monthly_income", "essential_expenses", "other_debt_payments",
            "dependants", "disposable_income", "notes", "outcome", "started_by", "started_at", "completed_by",
            "completed_at", "documents",
        ]


def _visible_verification(user, pk: int) -> Verification:
    return get_object_or_404(Verification.objects.filter(case__in=visible_cases(user)), pk=pk)


class VerificationStartApi(APIView):
    @extend_schema(
        request=None,
        responses={201: VerificationSerializer},
        description="Open a verification of the cardholder's situation; a case in first contact moves to "
        "verification. One open verification per case (409 `verification_open`).",
    )
    def post(self, request, pk: int):
        case = get_object_or_404(visible_cases(request.user), pk=pk)
        verification = verification_start(case_id=case.pk, actor=request.user)
        return Response(VerificationSerializer(verification).data, status=status.HTTP_201_CREATED)


class VerificationCompleteApi(APIView):
    class InputSerializer(serializers.Serializer):
        outcome = serializers.ChoiceField(choices=Verification.Outcome.choices)
        hardship_reason = serializers.ChoiceField(choices=HardshipReason.choices, required=False, default="")
        monthly_income = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=0)
        essential_expenses = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=0)
        other_debt_payments = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=0, default=0)
        dependants = serializers.IntegerField(min_value=0, max_value=50, default=0)
        notes = serializers.CharField(required=False, allow_blank=True, max_length=4000, default="")

    @extend_schema(
        request=InputSerializer,
        responses=VerificationSerializer,
        description="Record the figures and the outcome. Disposable income = income − essential expenses − "
        "other debts' payments. `false_information` records wilful evidence; only `verified` unlocks "
        "`propose_plan`.",
    )
    def post(self, request, pk: int):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        verification = _visible_verification(request.user, pk)
        verification = verification_complete(verification_id=verification.pk, actor=request.user,
                                              **data.validated_data)
        return Response(VerificationSerializer(verification).data)


class VerificationDocumentApi(APIView):
    parser_classes = [MultiPartParser, FormParser]

    class InputSerializer(serializers.Serializer):
        file = serializers.FileField()
        kind = serializers.ChoiceField(
            choices=VerificationDocument.Kind.choices, default=VerificationDocument.Kind.OTHER
        )

    @extend_schema(
        request={"multipart/form-data": InputSerializer},
        responses={201: VerificationDocumentSerializer},
        description="Add an evidence file (PDF, JPEG or PNG, judged by its content; at most EVIDENCE_MAX_BYTES). "
        "It is downloaded only through `download_url`, never from a public URL.",
    )
    def post(self, request, pk: int):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        verification = _visible_verification(request.user, pk)
        document = verification_document_add(
            verification_id=verification.pk, actor=request.user, upload=data.validated_data["file"],
            kind=data.validated_data["kind"],
        )
        return Response(VerificationDocumentSerializer(document).data, status=status.HTTP_201_CREATED)


# --- Promises to pay -------------------------------------------------------------------------------


class PromiseSerializer(serializers.ModelSerializer):
    class Meta:
        model = Promise
        fields = ["id", "case", "amount", "due_on", "made_via", "status", "paid_amount", "judged_at", "created_by",
                  "created_at"]


class CasePromisesApi(APIView):
    class InputSerializer(serializers.Serializer):
        amount = serializers.DecimalField(max_digits=14, decimal_places=2)
        due_on = serializers.DateField()
        contact = serializers.IntegerField(required=False, allow_null=True, default=None)

    @extend_schema(responses=PromiseSerializer(many=True), description="The case's promises to pay, latest due first.")
    def get(self, request, pk: int):
        case = get_object_or_404(visible_cases(request.user), pk=pk)
        return Response(PromiseSerializer(case.promises.order_by("-due_on", "-pk"), many=True).data)

    @extend_schema(
        request=InputSerializer,
        responses={201: PromiseSerializer},
        description="Record a promise to pay: amount > 0 and at most the overdue total, due from today to "
        "PROMISE_MAX_DAYS_AHEAD days ahead. Collection calls pause until the morning after the due date "
        "(reason `promise_pending`).",
    )
    def post(self, request, pk: int):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        case = get_object_or_404(visible_cases(request.user), pk=pk)
        promise = promise_record(
            case_id=case.pk, actor=request.user, amount=data.validated_data["amount"],
            due_on=data.validated_data["due_on"], contact_id=data.validated_data["contact"],
        )
        return Response(PromiseSerializer(promise).data, status=status.HTTP_201_CREATED)


class TaskSerializer(serializers.ModelSerializer):
    case_number = serializers.CharField(source="case.number")
    note = serializers.CharField(source="note_text", read_only=True)

    class Meta:
        model = FollowUpTask
        fields = ["id", "case", "case_number", "kind", "due_on", "note", "source", "assigned_to", "done_at"]


class TaskListApi(APIView):
    class QuerySerializer(serializers.Serializer):
        due_by = serializers.DateField(required=False, help_text="tasks due on or before this day (default today)")

    @extend_schema(parameters=[QuerySerializer], responses=TaskSerializer(many=True))
    def get(self, request):
        """The caller's open follow-up tasks due by a day, oldest first."""
        query = self.QuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        tasks = tasks_due_for(user=request.user, today=query.validated_data.get("due_by") or timezone.localdate())
        return Response(TaskSerializer(tasks, many=True).data)


class TaskCompleteApi(APIView):
    @extend_schema(request=None, responses=TaskSerializer)
    def post(self, request, pk: int):
        """Tick a task done (its collector, or a supervisor)."""
        task = get_object_or_404(FollowUpTask.objects.filter(case__in=visible_cases(request.user)), pk=pk)
        return Response(TaskSerializer(task_complete(task_id=task.pk, actor=request.user)).data)


class MessageDeliveryApi(APIView):
    class InputSerializer(serializers.Serializer):
        delivered_at = serializers.DateTimeField(required=False)

    @extend_schema(
        request=InputSerializer,
        responses={200: inline_serializer("MessageDelivery", {"id": serializers.IntegerField(),
                                                              "status": serializers.CharField(),
                                                              "delivered_at": serializers.DateTimeField()})},
        description="The SMS or email gateway reports that a sent message was delivered (idempotent).",
    )
    def post(self, request, pk: int):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        message = get_object_or_404(OutboundMessage.objects.filter(case__in=visible_cases(request.user)), pk=pk)
        message = message_mark_delivered(
            message_id=message.pk, actor=request.user, delivered_at=data.validated_data.get("delivered_at")
        )
        return Response({"id": message.pk, "status": message.status, "delivered_at": message.delivered_at})
