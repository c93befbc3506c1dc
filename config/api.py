"""API plumbing shared by every app: pagination and the mapping of refusals to HTTP answers."""

from django.utils.translation import gettext as _
from django_fsm import ConcurrentTransition
from rest_framework import status
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from config.errors import DomainError

STALE_STATE = "stale_state"


class PageSizePagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 500


def exception_handler(exc, context):
    if isinstance(exc, DomainError):
        return Response(exc.as_dict(), status=exc.http_status)
    if isinstance(exc, ConcurrentTransition):
        return Response(
            {"code": STALE_STATE, "detail": _("The case was changed by someone else; reload and try again.")},
            status=status.HTTP_409_CONFLICT,
        )
    return drf_exception_handler(exc, context)
