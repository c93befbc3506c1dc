"""Portal links in the API: lift a lock early (the token itself is never shown; only its hash is kept)."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from cases.selectors import visible_cases
from plans.models import PortalLink
from plans.portal import portal_link_unlock


class PortalLinkSerializer(serializers.ModelSerializer):
    class Meta:
        model = PortalLink
        fields = [
            "id", "case", "channel", "created_at", "expires_at", "revoked_at", "last_opened_at",
            "locked_until", "identity_failures", "code_failures",
        ]
        read_only_fields = fields


class PortalLinkUnlockApi(APIView):
    @extend_schema(
        request=None,
        responses=PortalLinkSerializer,
        description="Lift the lock a portal link got after too many wrong identity answers or one-time codes "
        "(collectors, supervisors, admins; audited). 409 `portal_link_not_locked` when it is not locked.",
    )
    def post(self, request, pk: int):
        link = get_object_or_404(PortalLink.objects.filter(case__in=visible_cases(request.user)), pk=pk)
        return Response(PortalLinkSerializer(portal_link_unlock(link_id=link.pk, actor=request.user)).data)
