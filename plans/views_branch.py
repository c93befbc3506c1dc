"""The case page's branch signature panel: upload the scan of an agreement signed on paper (the case's collector
or a supervisor), then a supervisor who did not upload it confirms or rejects it. htmx partials; a plain form post
goes back to the case page."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from accounts.models import Role
from cases.models import Case, CaseStatus
from cases.selectors import visible_cases
from config.errors import DomainError
from negotiation.page_refresh import with_case_refresh
from plans.branch import (
    CONFIRMERS,
    SIGNABLE,
    UPLOADERS,
    branch_signature_confirm,
    branch_signature_reject,
    branch_signature_upload,
)
from plans.models import BranchSignature


def _visible_case(user, pk: int) -> Case:
    return get_object_or_404(visible_cases(user).select_related("account"), pk=pk)


def _panel(request, case: Case, *, status: int = 200, **extra):
    if not request.htmx and request.method == "POST" and status == 200:
        return redirect("cases:detail", pk=case.pk)
    user = request.user
    signatures = list(case.branch_signatures.select_related("offer", "uploaded_by", "decided_by", "agreement")[:10])
    pending = next((s for s in signatures if s.status == BranchSignature.Status.PENDING), None)
    may_upload = (
        case.status == CaseStatus.PLAN
        and pending is None
        and (user.is_superuser or user.role in UPLOADERS)
        and (user.role != Role.COLLECTOR or case.assigned_to_id == user.pk)
    )
    context = {
        "case": case,
        "signatures": signatures,
        "pending": pending,
        "offers": list(case.offers.filter(status__in=SIGNABLE)) if may_upload else [],
        "may_upload": may_upload,
        "may_decide": pending is not None
        and (user.is_superuser or user.role in CONFIRMERS)
        and pending.uploaded_by_id != user.pk,
        **extra,
    }
    response = render(request, "plans/_branch_signature.html", context, status=status)
    return with_case_refresh(request, response, case.pk)


def _refused(request, case: Case, error: Exception):
    if isinstance(error, DomainError):
        return _panel(request, case, status=error.http_status, problems=[error.message])
    return _panel(request, case, status=403, problems=[str(error)])


@login_required
@require_safe
def branch_panel(request, pk: int):
    return _panel(request, _visible_case(request.user, pk))


@login_required
@require_POST
def branch_upload(request, pk: int):
    case = _visible_case(request.user, pk)
    upload = request.FILES.get("file")
    if upload is None:
        return _panel(request, case, status=400, problems=[_("Choose the PDF scan of the signed agreement.")])
    try:
        offer_id = int(request.POST.get("offer", ""))
    except ValueError:
        return _panel(request, case, status=400, problems=[_("Choose one of this case's offers.")])
    try:
        branch_signature_upload(case_id=case.pk, offer_id=offer_id, upload=upload, actor=request.user)
    except (DomainError, PermissionDenied) as error:
        return _refused(request, case, error)
    return _panel(request, case, done=_("Scan uploaded; a supervisor who did not upload it must confirm it."))


def _visible_signature(user, pk: int) -> BranchSignature:
    return get_object_or_404(BranchSignature.objects.filter(case__in=visible_cases(user)), pk=pk)


@login_required
@require_POST
def branch_confirm(request, pk: int):
    signature = _visible_signature(request.user, pk)
    case = _visible_case(request.user, signature.case_id)
    try:
        agreement = branch_signature_confirm(signature_id=signature.pk, actor=request.user)
    except (DomainError, PermissionDenied) as error:
        return _refused(request, case, error)
    case.refresh_from_db()
    done = _("Agreement %(number)s is signed; the case is in follow-up.") % {"number": agreement.number}
    return _panel(request, case, done=done)


@login_required
@require_POST
def branch_reject(request, pk: int):
    signature = _visible_signature(request.user, pk)
    case = _visible_case(request.user, signature.case_id)
    try:
        branch_signature_reject(signature_id=signature.pk, actor=request.user, reason=request.POST.get("reason", ""))
    except (DomainError, PermissionDenied) as error:
        return _refused(request, case, error)
    return _panel(request, case, done=_("Scan rejected; nothing was signed."))
