"""The case page's contact log, verification and promise panel (htmx partials), the evidence download, the
worklist's pinned tasks, and the supervisor's strategy and template pages."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from cases.models import Case
from cases.selectors import visible_cases
from compliance.selectors import reason_label
from config.errors import DomainError
from negotiation.forms import (
    ContactLogForm,
    DocumentForm,
    MessageTemplateForm,
    PromiseForm,
    StrategyStepFormSet,
    VerificationForm,
)
from negotiation.models import (
    ContactStrategy,
    FollowUpTask,
    MessageTemplate,
    Verification,
    VerificationDocument,
    disposable_income,
)
from negotiation.page_refresh import with_case_refresh
from negotiation.selectors import tasks_due_for
from negotiation.services import (
    SUPERVISING_ROLES,
    ContactForbidden,
    contact_record,
    message_template_update,
    promise_record,
    strategy_step_update,
    task_complete,
    verification_complete,
    verification_document_add,
    verification_document_read,
    verification_start,
)

PANEL_VERIFICATIONS = 5
FIGURES = ("monthly_income", "essential_expenses", "other_debt_payments")


def _visible_case(user, pk: int) -> Case:
    return get_object_or_404(visible_cases(user).select_related("account"), pk=pk)


def _visible_verification(user, pk: int) -> Verification:
    return get_object_or_404(Verification.objects.filter(case__in=visible_cases(user)), pk=pk)


def _typed_verification(request) -> VerificationForm:
    """The open verification's form with what was typed in it: the panel's other forms send those fields
    along (hx-include), so an upload or a promise re-renders the panel without clearing them."""
    if request.method != "POST":
        return VerificationForm()
    typed = {name: request.POST[name] for name in VerificationForm.base_fields if name in request.POST}
    return VerificationForm(initial=typed)


def _disposable(form: VerificationForm):
    """The disposable income of the figures the form shows, or None while one is missing or unreadable."""
    values = form.data if form.is_bound else form.initial
    field = VerificationForm.base_fields["monthly_income"]
    try:
        figures = [field.clean(values.get(name)) for name in FIGURES]
    except ValidationError:
        return None
    return disposable_income(*figures) if all(value is not None for value in figures) else None


def _panel(request, case: Case, *, status: int = 200, **extra):
    """The panel for htmx, with the case page's header, timeline and compliance box out of band after a
    post; a plain form post goes back to the case page."""
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
        "verification_form": _typed_verification(request),
        "document_form": DocumentForm(),
        "promise_form": PromiseForm(),
        **extra,
    }
    context["disposable_amount"] = _disposable(context["verification_form"])
    response = render(request, "negotiation/_case_panel.html", context, status=status)
    return with_case_refresh(request, response, case.pk)


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


# --- Contact log (the case page's first tab) ---------------------------------------------------------


def _contact_log_answer(request, case: Case, *, form, status: int = 200, **extra):
    """The form again, with the header, the timeline and the compliance box swapped out of band; a plain post
    goes back to the case page."""
    if not request.htmx and status == 200:
        return redirect("cases:detail", pk=case.pk)
    response = render(request, "negotiation/_contact_log.html", {"case": case, "form": form, **extra}, status=status)
    return with_case_refresh(request, response, case.pk)


@login_required
@require_POST
def contact_log_view(request, pk: int):
    """Log a contact that was just made; a refusal by the gate shows its reasons and stores nothing."""
    case = get_object_or_404(visible_cases(request.user).select_related("account__debtor"), pk=pk)
    form = ContactLogForm(request.POST)
    if not form.is_valid():
        return _contact_log_answer(request, case, form=form, status=400)
    try:
        contact_record(case_id=case.pk, actor=request.user, path="web", **form.cleaned_data)
    except ContactForbidden as refusal:
        decision = refusal.decision
        refused = {
            "reasons": [reason_label(reason.get("code", "")) for reason in decision.reasons],
            "next_allowed_at": decision.next_allowed_at,
            "zone": case.account.debtor.timezone,
        }
        return _contact_log_answer(request, case, form=form, status=409, refused=refused)
    except DomainError as error:
        return _contact_log_answer(request, case, form=form, status=error.http_status, problems=[error.message])
    except PermissionDenied as error:
        return _contact_log_answer(request, case, form=form, status=403, problems=[str(error)])
    case = get_object_or_404(visible_cases(request.user).select_related("account__debtor"), pk=pk)
    return _contact_log_answer(request, case, form=ContactLogForm(), done=_("Contact logged."))


# --- Follow-up tasks (pinned on the worklist) -------------------------------------------------------------


@login_required
@require_POST
def task_done_view(request, pk: int):
    task = get_object_or_404(FollowUpTask.objects.filter(case__in=visible_cases(request.user)), pk=pk)
    extra = {}
    try:
        task_complete(task_id=task.pk, actor=request.user)
        extra["done"] = _("Task done.")
    except DomainError as error:
        extra["problems"] = [error.message]
    except PermissionDenied as error:
        extra["problems"] = [str(error)]
    if not request.htmx:
        return redirect("cases:worklist")
    today = timezone.localdate()
    context = {"tasks": tasks_due_for(user=request.user, today=today), "today": today, **extra}
    return render(request, "negotiation/_due_tasks.html", context)


# --- Supervisor: strategy steps and message templates ---------------------------------------------------


def _require_supervisor(user) -> None:
    if not (user.is_superuser or user.role in SUPERVISING_ROLES):
        raise PermissionDenied(_("This page is for supervisors."))


@login_required
def strategy_edit(request):
    """The contact strategy by class; each changed step is saved through the audited service."""
    _require_supervisor(request.user)
    queryset = ContactStrategy.objects.order_by("classification", "order", "pk")
    formset = StrategyStepFormSet(request.POST or None, queryset=queryset)
    if request.method == "POST":
        if formset.is_valid():
            for form in formset.forms:
                if form.has_changed():
                    strategy_step_update(step_id=form.instance.pk, actor=request.user, **form.cleaned_data_for_update())
            messages.success(request, _("Contact strategy saved."))
            return redirect("negotiation:strategy")
        return render(request, "negotiation/strategy.html", {"formset": formset}, status=400)
    return render(request, "negotiation/strategy.html", {"formset": formset})


@login_required
def template_list(request):
    _require_supervisor(request.user)
    return render(request, "negotiation/templates.html", {"templates": MessageTemplate.objects.all()})


@login_required
def template_edit(request, pk: int):
    """Edit one message template; a screened word or an unknown placeholder is shown as a form error."""
    _require_supervisor(request.user)
    template = get_object_or_404(MessageTemplate, pk=pk)
    form = MessageTemplateForm(request.POST or None, instance=template)
    if request.method == "POST" and form.is_valid():
        try:
            message_template_update(template_id=template.pk, actor=request.user, **form.cleaned_data)
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("Template saved."))
            return redirect("negotiation:templates")
    status = 400 if request.method == "POST" else 200
    return render(request, "negotiation/template_edit.html", {"form": form, "template": template}, status=status)
