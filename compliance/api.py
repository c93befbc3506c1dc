"""The complaints API: register, list with the SLA clock, and the steps of handling one."""

from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Role
from compliance import complaints as sla
from compliance.models import Complaint
from compliance.selectors import OPEN, ComplaintFilters, complaint_list, complaints_visible_to
from compliance.services import (
    COMPLAINT_EXTENSION_APPROVERS,
    COMPLAINT_HANDLERS,
    complaint_acknowledge,
    complaint_extend,
    complaint_mark_complex,
    complaint_register,
    complaint_resolve,
)
from config import bounds

# Who reads complaints: handlers, and legal (read-only, on the cases it sees).
COMPLAINT_READERS = COMPLAINT_HANDLERS | {Role.LEGAL}
CLOCK_STATUSES = [sla.ClockStatus.ON_TRACK, sla.ClockStatus.AT_RISK, sla.ClockStatus.OVERDUE]


def _has_role(user, roles: set) -> bool:
    return bool(user and user.is_authenticated and (user.is_superuser or user.role in roles))


class ReadsComplaints(BasePermission):
    def has_permission(self, request, view) -> bool:
        return _has_role(request.user, COMPLAINT_READERS)


class ListsOrRegistersComplaints(BasePermission):
    """Listing is for readers; registering is decided by the service (collectors may, legal may not)."""

    def has_permission(self, request, view) -> bool:
        if request.method == "POST":
            return bool(request.user and request.user.is_authenticated)
        return _has_role(request.user, COMPLAINT_READERS)


class HandlesComplaints(BasePermission):
    def has_permission(self, request, view) -> bool:
        return _has_role(request.user, COMPLAINT_HANDLERS)


class ApprovesExtensions(BasePermission):
    def has_permission(self, request, view) -> bool:
        return _has_role(request.user, COMPLAINT_EXTENSION_APPROVERS)


class ComplaintClockSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=CLOCK_STATUSES, help_text="at_risk: 3 days or less left")
    days_left = serializers.IntegerField(help_text="whole days left; negative once overdue")
    days_overdue = serializers.IntegerField(help_text="whole days past due, at least 1 once overdue; 0 before")
    remaining_seconds = serializers.IntegerField()
    stopped = serializers.BooleanField(help_text="resolved: the clock stands where the complaint was decided")


def complaint_clock(complaint: Complaint, now) -> dict:
    stopped = complaint.resolved_at is not None
    state = sla.clock(due_at=complaint.due_at, now=complaint.resolved_at if stopped else now)
    return {
        "status": state.status,
        "days_left": state.days_left,
        "days_overdue": state.days_overdue,
        "remaining_seconds": int(state.remaining.total_seconds()),
        "stopped": stopped,
    }


class ComplaintSerializer(serializers.ModelSerializer):
    case_number = serializers.SerializerMethodField()
    clock = serializers.SerializerMethodField()

    class Meta:
        model = Complaint
        fields = [
            "id",
            "case",
            "case_number",
            "channel",
            "category",
            "description",
            "status",
            "received_at",
            "acknowledged_at",
            "complex",
            "extended",
            "extension_approved_by",
            "due_at",
            "clock",
            "warned_at",
            "resolved_at",
            "outcome",
            "resolution",
            "registered_by",
            "handler",
        ]

    def get_case_number(self, complaint: Complaint) -> str | None:
        return complaint.case.number if complaint.case_id else None

    @extend_schema_field(ComplaintClockSerializer)
    def get_clock(self, complaint: Complaint) -> dict:
        return complaint_clock(complaint, self.context.get("now") or timezone.now())


class ComplaintFilterSerializer(serializers.Serializer):
    """The complaint filters, shared by the list API and the complaints page."""

    status = serializers.ChoiceField(
        choices=[(OPEN, _("open")), *Complaint.Status.choices],
        required=False,
        allow_blank=True,
        help_text="open: received or acknowledged",
    )
    overdue = serializers.BooleanField(required=False, allow_null=True, default=None)
    at_risk = serializers.BooleanField(
        required=False, allow_null=True, default=None, help_text="open and due within 3 days"
    )
    category = serializers.ChoiceField(choices=Complaint.Category.choices, required=False, allow_blank=True)
    case = serializers.IntegerField(required=False, allow_null=True, min_value=1)

    def to_filters(self) -> ComplaintFilters:
        data = self.validated_data
        return ComplaintFilters(
            status=data.get("status", ""),
            overdue=data.get("overdue"),
            at_risk=data.get("at_risk"),
            category=data.get("category", ""),
            case_id=data.get("case"),
        )


def _answer(complaint: Complaint) -> Response:
    return Response(ComplaintSerializer(Complaint.objects.select_related("case").get(pk=complaint.pk)).data)


def _visible(request, pk: int) -> Complaint:
    return get_object_or_404(complaints_visible_to(request.user), pk=pk)


REFUSED = OpenApiResponse(description="Refused: `code` names the rule (e.g. already_resolved, deadline_passed).")


class ComplaintListApi(ListAPIView):
    """Complaints the caller may see, soonest due first, each with its SLA clock."""

    serializer_class = ComplaintSerializer
    permission_classes = [ListsOrRegistersComplaints]
    filter_backends: list = []

    class InputSerializer(serializers.Serializer):
        channel = serializers.ChoiceField(choices=Complaint.Channel.choices)
        category = serializers.ChoiceField(choices=Complaint.Category.choices)
        description = serializers.CharField(max_length=4000)
        case = serializers.IntegerField(required=False, allow_null=True, min_value=1)
        received_at = bounds.ApiDateTimeField(required=False, past=True, help_text="default: now")
        hold = serializers.BooleanField(
            required=False,
            allow_null=True,
            default=None,
            help_text="hold the case while the complaint is open; by default for complaints about contact "
            "(contact_conduct, contact_frequency, third_party, privacy)",
        )

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "now": timezone.now()}

    def get_queryset(self):
        params = ComplaintFilterSerializer(data=self.request.query_params)
        params.is_valid(raise_exception=True)
        return complaint_list(user=self.request.user, filters=params.to_filters())

    @extend_schema(
        parameters=[ComplaintFilterSerializer],
        description="Compliance officers and admins see every complaint; supervisors those on their teams' cases "
        "and the unlinked ones they registered; legal those on escalated cases. Collectors: 403.",
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        request=InputSerializer,
        responses={
            201: ComplaintSerializer,
            400: OpenApiResponse(description="unknown_case, received_in_future, hold_needs_case, ..."),
            403: OpenApiResponse(description="Legal does not register complaints."),
        },
        description="Register a complaint and start its clock: decide within 15 days of receipt (30 when complex, "
        "30 more with an approved extension). Collectors, supervisors, compliance officers and admins.",
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        complaint = complaint_register(actor=request.user, case_id=fields.pop("case", None), **fields)
        return Response(ComplaintSerializer(complaint).data, status=status.HTTP_201_CREATED)


class ComplaintDetailApi(APIView):
    permission_classes = [ReadsComplaints]

    @extend_schema(responses=ComplaintSerializer)
    def get(self, request, pk: int):
        complaint = get_object_or_404(complaints_visible_to(request.user).select_related("case"), pk=pk)
        return Response(ComplaintSerializer(complaint).data)


class ComplaintAcknowledgeApi(APIView):
    permission_classes = [HandlesComplaints]

    @extend_schema(
        request=None,
        responses={200: ComplaintSerializer, 409: REFUSED},
        description="Confirm receipt; the caller becomes the handler unless there is one.",
    )
    def post(self, request, pk: int):
        complaint = complaint_acknowledge(complaint_id=_visible(request, pk).pk, actor=request.user)
        return _answer(complaint)


class ComplaintReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)


class ComplaintComplexApi(APIView):
    permission_classes = [HandlesComplaints]

    @extend_schema(
        request=ComplaintReasonSerializer,
        responses={200: ComplaintSerializer, 409: REFUSED},
        description="Mark the complaint complex: due 30 days after receipt instead of 15. Only before it is due.",
    )
    def post(self, request, pk: int):
        data = ComplaintReasonSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        complaint = complaint_mark_complex(
            complaint_id=_visible(request, pk).pk, actor=request.user, **data.validated_data
        )
        return _answer(complaint)


class ComplaintExtendApi(APIView):
    permission_classes = [ApprovesExtensions]

    @extend_schema(
        request=ComplaintReasonSerializer,
        responses={
            200: ComplaintSerializer,
            403: OpenApiResponse(description="Not a supervisor or admin, or own_complaint (registered or handles it)."),
            409: REFUSED,
        },
        description="A supervisor approves 30 more days for a complex complaint, once, before it is due.",
    )
    def post(self, request, pk: int):
        data = ComplaintReasonSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        complaint = complaint_extend(complaint_id=_visible(request, pk).pk, actor=request.user, **data.validated_data)
        return _answer(complaint)


class ComplaintResolveApi(APIView):
    permission_classes = [HandlesComplaints]

    class InputSerializer(serializers.Serializer):
        outcome = serializers.ChoiceField(choices=Complaint.Outcome.choices)
        resolution = serializers.CharField(max_length=4000)

    @extend_schema(
        request=InputSerializer,
        responses={200: ComplaintSerializer, 409: REFUSED},
        description="Decide the complaint; its clock stops and the complaint hold it put on the case is lifted.",
    )
    def post(self, request, pk: int):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        complaint = complaint_resolve(complaint_id=_visible(request, pk).pk, actor=request.user, **data.validated_data)
        return _answer(complaint)
