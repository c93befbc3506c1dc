"""The agency register: supervisors and admins add, edit and deactivate agencies; legal and compliance read."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from config.errors import DomainError
from negotiation import agencies
from negotiation.forms import AgencyForm
from negotiation.models import Agency


def _require(allowed: bool) -> None:
    if not allowed:
        raise PermissionDenied(_("Your role does not see the agency register."))


@login_required
@require_safe
def agency_list(request):
    """Every agency with the cases placed with it now; one query whatever the number of agencies."""
    _require(agencies.may_read(request.user))
    context = {"agencies": agencies.agency_register(), "may_edit": agencies.may_edit(request.user)}
    return render(request, "negotiation/agencies.html", context)


@login_required
def agency_edit(request, pk: int | None = None):
    """Add an agency or edit one; the service's refusals show on the field they concern."""
    _require(agencies.may_edit(request.user))
    agency = get_object_or_404(Agency, pk=pk) if pk is not None else None
    initial = {name: getattr(agency, name) for name in AgencyForm.base_fields} if agency else {}
    form = AgencyForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            if agency is None:
                agencies.agency_create(actor=request.user, **form.cleaned_data)
            else:
                agencies.agency_update(agency_id=agency.pk, actor=request.user, **form.cleaned_data)
        except DomainError as error:
            for field, text in (error.details or {}).items():
                form.add_error(field if field in form.fields else None, text)
            if not error.details:
                form.add_error(None, error.message)
        else:
            messages.success(request, _("Agency saved."))
            return redirect("negotiation:agencies")
    status = 400 if request.method == "POST" else 200
    return render(request, "negotiation/agency_edit.html", {"form": form, "agency": agency}, status=status)


@login_required
@require_POST
def agency_active(request, pk: int):
    """Deactivate (with a reason) or reactivate an agency, then back to the register."""
    _require(agencies.may_edit(request.user))
    agency = get_object_or_404(Agency, pk=pk)
    active = request.POST.get("active") == "true"
    try:
        agencies.agency_set_active(agency_id=agency.pk, actor=request.user, active=active,
                                   reason=request.POST.get("reason", "")[:1000])
    except DomainError as error:
        messages.error(request, error.message)
        context = {"agencies": agencies.agency_register(), "may_edit": True, "problem_agency": agency.pk}
        return render(request, "negotiation/agencies.html", context, status=error.http_status)
    messages.success(request, _("Agency reactivated.") if active else _("Agency deactivated."))
    return redirect("negotiation:agencies")
