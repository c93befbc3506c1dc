"""API of field visits: request, approve / reject / cancel with a reason, log the visit as a contact.
Every lookup starts from visible_cases: a visit outside the user's cases is a 404."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from cases.selectors import visible_cases
from config import bounds
from negotiation import visits
from negotiation.api import ContactSerializer
from negotiation.models import FieldVisit, Outcome, Party


class VisitSerializer(serializers.ModelSerializer):
    staff = serializers.SerializerMethodField(help_text="The ids of the two staff members who go.")

    class Meta:
        model = FieldVisit
        fields = [
            "id", "case", "status", "planned_at", "address_kind", "address", "staff", "purpose", "requested_by",
            "requested_at", "decided_by", "decided_at", "decision_reason", "cancelled_by", "cancelled_at",
            "cancel_reason", "contact",
        ]

    def get_staff(self, visit: FieldVisit) -> list[int]:
        return list(visit.staff_ids)


def _visible_visit(user, pk: int) -> FieldVisit:
    return get_object_or_404(FieldVisit.objects.filter(case__in=visible_cases(user)), pk=pk)


class CaseVisitsApi(APIView):
    class InputSerializer(serializers.Serializer):
        planned_at = bounds.ApiDateTimeField()
        address_kind = serializers.ChoiceField(choices=[visits.AddressKind.RESIDENCE_CITY])
        staff = serializers.ListField(child=serializers.IntegerField(), help_text="exactly two distinct user ids")
        purpose = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")

    @extend_schema(responses=VisitSerializer(many=True), description="The case's field visits, latest first.")
    def get(self, request, pk: int):
        case = get_object_or_404(visible_cases(request.user), pk=pk)
        return Response(VisitSerializer(visits.visits_of(case, limit=100), many=True).data)

    @extend_schema(
        request=InputSerializer,
        responses={201: VisitSerializer},
        description="Request a field visit: a time after now (within 60 days), an address on record and exactly "
        "two distinct active collectors or supervisors. One open visit per case (409 `visit_already_open`).",
    )
    def post(self, request, pk: int):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        case = get_object_or_404(visible_cases(request.user), pk=pk)
        values = data.validated_data
        visit = visits.visit_request(
            case_id=case.pk, actor=request.user, planned_at=values["planned_at"],
            address_kind=values["address_kind"], staff_ids=values["staff"], purpose=values["purpose"],
        )
        return Response(VisitSerializer(visit).data, status=status.HTTP_201_CREATED)


class VisitReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=1000)


class VisitActionApi(APIView):
    """approve / reject (a supervisor of the case's team or an admin, never the requester) and cancel (the
    requester, the staff or such a supervisor); a reason every time."""

    action = ""
    SERVICES = {"approve": visits.visit_approve, "reject": visits.visit_reject, "cancel": visits.visit_cancel}

    @extend_schema(request=VisitReasonSerializer, responses=VisitSerializer)
    def post(self, request, pk: int):
        data = VisitReasonSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        visit = _visible_visit(request.user, pk)
        visit = self.SERVICES[self.action](visit_id=visit.pk, actor=request.user, reason=data.validated_data["reason"])
        return Response(VisitSerializer(visit).data)


class VisitLogApi(APIView):
    class InputSerializer(serializers.Serializer):
        outcome = serializers.ChoiceField(choices=Outcome.choices)
        at = bounds.ApiDateTimeField(required=False, past=True)
        party = serializers.ChoiceField(choices=Party.choices, default=Party.DEBTOR)
        duration_seconds = serializers.IntegerField(required=False, min_value=0, allow_null=True)
        notes = serializers.CharField(required=False, allow_blank=True, max_length=4000, default="")
        next_step = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")

    @extend_schema(
        request=InputSerializer,
        responses={201: ContactSerializer},
        description="Log an approved visit as a contact on the `visit` channel (its staff or a supervisor). The "
        "contact gate still decides (409 `contact_forbidden` with reasons); a visit that is not approved is "
        "refused with 409 `visit_not_approved`.",
    )
    def post(self, request, pk: int):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        visit = _visible_visit(request.user, pk)
        contact = visits.visit_log(visit_id=visit.pk, actor=request.user, path="api", **data.validated_data)
        return Response(ContactSerializer(contact).data, status=status.HTTP_201_CREATED)


class PendingVisitsApi(APIView):
    @extend_schema(responses=VisitSerializer(many=True))
    def get(self, request):
        """Requested visits the caller may decide (supervisors of the team, admins), soonest first."""
        return Response(VisitSerializer(visits.visits_pending_for(request.user)[:200], many=True).data)
