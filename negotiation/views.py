"""The case page's verification and promise panel (htmx partials) and the evidence download."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from cases.models import Case
from cases.selectors import visible_cases
from config.errors import DomainError
from negotiation.forms import DocumentForm, PromiseForm, VerificationForm
from negotiation.models import Verification, VerificationDocument, disposable_income
from negotiation.services import (
    promise_record,
    verification_complete,
    verification_document_add,
    verification_document_read,
    verification_start,
)

PANEL_VERIFICATIONS = 5


def _visible_case(user, pk: int) -> Case:
    return get_object_or_404(visible_cases(user).select_related("account"), pk=pk)


def _visible_verification(user, pk: int) -> Verification:
    return get_object_or_404(Verification.objects.filter(case__in=visible_cases(user)), pk=pk)


def _panel(request, case: Case, *, status: int = 200, **extra):
    """The panel for htmx; a plain form post goes back to the case page."""
    if not request.htmx and request.method == "POST" and status == 200:
        return redirect("cases:detail", pk=case.pk)
    documents = Prefetch("documents", queryset=VerificationDocument.objects.order_by("-uploaded_at", "-pk"))
    verifications = list(
        case.verifications.prefetch_related(documents).order_by("-started_at", "-pk")[:PANEL_VERIFICATIONS]
    )
    context = {
        "case": case,
        "verifications": verifications,
        "open_verification": next((v for v in verifications if v.is_open), None),
        "promises": case.promises.order_by("-due_on", "-pk"),
        "verification_form": VerificationForm(),
        "document_form": DocumentForm(),
        "promise_form": PromiseForm(),
        **extra,
    }
    return render(request, "negotiation/_case_panel.html", context, status=status)


@login_required
@require_safe
def case_panel(request, pk: int):
    return _panel(request, _visible_case(request.user, pk))


def _refused(request, case, error: DomainError, **forms):
    return _panel(request, case, status=error.http_status, problems=[error.message], **forms)


@login_required
@require_POST
def verification_start_view(request, pk: int):
    case = _visible_case(request.user, pk)
    try:
        verification_start(case_id=case.pk, actor=request.user)
    except DomainError as error:
        return _refused(request, case, error)
    return _panel(request, case, done=_("Verification started."))


@login_required
@require_POST
def verification_complete_view(request, pk: int):
    verification = _visible_verification(request.user, pk)
    case = _visible_case(request.user, verification.case_id)
    form = VerificationForm(request.POST)
    if not form.is_valid():
        return _panel(request, case, status=400, verification_form=form)
    try:
        verification_complete(verification_id=verification.pk, actor=request.user, **form.cleaned_data)
    except DomainError as error:
        return _refused(request, case, error, verification_form=form)
    return _panel(request, case, done=_("Verification completed."))


@login_required
@require_POST
def verification_preview(request, pk: int):
    """The live disposable income while the figures are typed; nothing is stored."""
    _visible_verification(request.user, pk)
    form = VerificationForm(request.POST)
    form.is_valid()
    figures = [form.cleaned_data.get(name) for name in ("monthly_income", "essential_expenses", "other_debt_payments")]
    amount = disposable_income(*figures) if all(value is not None for value in figures) else None
    return render(request, "negotiation/_disposable_income.html", {"amount": amount})


@login_required
@require_POST
def document_upload(request, pk: int):
    verification = _visible_verification(request.user, pk)
    case = _visible_case(request.user, verification.case_id)
    form = DocumentForm(request.POST, request.FILES)
    if not form.is_valid():
        return _panel(request, case, status=400, document_form=form)
    try:
        verification_document_add(
            verification_id=verification.pk, actor=request.user, upload=form.cleaned_data["file"],
            kind=form.cleaned_data["kind"],
        )
    except DomainError as error:
        return _refused(request, case, error, document_form=form)
    return _panel(request, case, done=_("Document added."))


@login_required
@require_safe
def document_download(request, pk: int):
    """Evidence is only ever served here: within the user's cases, as an attachment, never sniffed."""
    try:
        document = verification_document_read(document_id=pk, actor=request.user)
    except VerificationDocument.DoesNotExist:
        raise Http404 from None
    except PermissionDenied:
        raise Http404 from None
    response = FileResponse(
        document.file.open("rb"), as_attachment=True, filename=document.original_name,
        content_type=document.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_POST
def promise_create(request, pk: int):
    case = _visible_case(request.user, pk)
    form = PromiseForm(request.POST)
    if not form.is_valid():
        return _panel(request, case, status=400, promise_form=form)
    try:
        promise_record(case_id=case.pk, actor=request.user, **form.cleaned_data)
    except DomainError as error:
        return _refused(request, case, error, promise_form=form)
    except PermissionDenied as error:
        return _panel(request, case, status=403, problems=[str(error)], promise_form=form)
    return _panel(request, case, done=_("Promise to pay recorded."))
