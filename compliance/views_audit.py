"""The audit log browser for compliance officers and administrators: filter, page, export, verify."""

import csv
import json
from collections.abc import Iterator
from datetime import datetime, time, timedelta

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.http import StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST, require_safe

from accounts.models import Role
from compliance import audit, masking
from compliance.exports import neutralise_cell
from compliance.models import AuditEvent
from config import bounds
from config.widgets import IsoDateInput

AUDIT_PAGE_SIZE = 50
EXPORT_CHUNK = 2000
AUDIT_READERS = {Role.COMPLIANCE, Role.ADMIN}
# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection).


def _require_auditor(user) -> None:
    if not (user.is_superuser or user.role in AUDIT_READERS):
        raise PermissionDenied(_("The audit log is for compliance officers and administrators."))


def _wants_partial(request) -> bool:
    return bool(request.htmx) and not request.htmx.history_restore_request




class AuditFilterForm(forms.Form):
    q = forms.CharField(label=gettext_lazy("Search"), required=False, max_length=100)
    action = forms.CharField(label=gettext_lazy("Action starts with"), required=False, max_length=80)
    actor = forms.CharField(label=gettext_lazy("Actor"), required=False, max_length=150)
    case = forms.CharField(label=gettext_lazy("Case"), required=False, max_length=20)
    target_type = forms.CharField(label=gettext_lazy("Target type"), required=False, max_length=80)
    date_from = bounds.FormDateField(label=gettext_lazy("From"), required=False, widget=IsoDateInput)
    date_to = bounds.FormDateField(label=gettext_lazy("To"), required=False, widget=IsoDateInput)

    def clean_case(self) -> int | None:
        value = self.cleaned_data["case"].strip().upper().removeprefix("C")
        if not value:
            return None
        if not value.isdigit() or len(value) > 12:
            raise forms.ValidationError(_("Enter a case number such as C00000012, or its id."))
        return int(value)

    def clean(self) -> dict:
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            self.add_error("date_to", _("The end date is before the start date."))
        return data

    def apply(self, events: QuerySet[AuditEvent]) -> QuerySet[AuditEvent]:
        data = self.cleaned_data
        if data.get("q"):
            term = data["q"].strip()
            events = events.filter(
                Q(action__icontains=term) | Q(actor_label__icontains=term) | Q(reason__icontains=term)
                | Q(target_type__icontains=term) | Q(target_id=term)
            )
        if data.get("action"):
            events = events.filter(action__startswith=data["action"].strip())
        if data.get("actor"):
            actor = data["actor"].strip()
            if actor in AuditEvent.ActorKind.values:
                events = events.filter(actor_kind=actor)
            else:
                events = events.filter(actor_label__iexact=actor)
        if data.get("case") is not None:
            events = events.filter(case_id=data["case"])
        if data.get("target_type"):
            events = events.filter(target_type=data["target_type"].strip().lower())
        zone = timezone.get_current_timezone()
        if data.get("date_from"):
            events = events.filter(at__gte=datetime.combine(data["date_from"], time.min, tzinfo=zone))
        if data.get("date_to"):
            events = events.filter(at__lt=datetime.combine(data["date_to"] + timedelta(days=1), time.min, tzinfo=zone))
        return events

    def used(self) -> dict:
        """The filters in use, for the export's own audit event."""
        return {name: str(value) for name, value in self.cleaned_data.items() if value not in (None, "")}


def _filtered(request) -> tuple[AuditFilterForm, QuerySet[AuditEvent]]:
    form = AuditFilterForm(request.GET)
    if not form.is_valid():
        return form, AuditEvent.objects.none()
    return form, form.apply(AuditEvent.objects.defer("prev_hash", "hash").order_by("-pk"))


@login_required
@require_safe
def audit_log(request):
    """Every recorded write, newest first, 50 a page; htmx swaps only the results."""
    _require_auditor(request.user)
    form, events = _filtered(request)
    page = Paginator(events, AUDIT_PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"form": form, "page": page, "actor_kinds": AuditEvent.ActorKind.choices}
    template = "compliance/audit_results.html" if _wants_partial(request) else "compliance/audit_log.html"
    response = render(request, template, context, status=200 if form.is_valid() else 400)
    patch_vary_headers(response, ["HX-Request"])
    return response


# --- Export --------------------------------------------------------------------------------------


class _Echo:
    """A file-like object whose write returns the line, so csv.writer can feed a streaming response."""

    def write(self, value: str) -> str:
        return value


EXPORT_COLUMNS = ("id", "time", "actor_kind", "actor", "action", "target_type", "target_id", "case", "reason",
                  "changes", "ip")


def _export_row(event: AuditEvent) -> list[str]:
    return [
        "" if cell is None else str(neutralise_cell(cell))
        for cell in (
            event.pk,
            timezone.localtime(event.at).isoformat(),
            event.actor_kind,
            event.actor_label,
            event.action,
            event.target_type,
            event.target_id,
            f"C{event.case_id:08d}" if event.case_id else "",
            masking.mask_text(event.reason),
            masking.mask_text(json.dumps(event.changes, ensure_ascii=False, sort_keys=True)) if event.changes else "",
            event.ip or "",
        )
    ]


def _in_chunks(events: QuerySet[AuditEvent]) -> Iterator[AuditEvent]:
    """Newest first, a chunk at a time by key, so memory stays constant however long the log is."""
    last_pk = None
    while True:
        chunk = events if last_pk is None else events.filter(pk__lt=last_pk)
        rows = list(chunk[:EXPORT_CHUNK])
        if not rows:
            return
        yield from rows
        last_pk = rows[-1].pk


def _csv_lines(events: QuerySet[AuditEvent]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield "\ufeff"  # a BOM, so that spreadsheet programs read the Chinese text as UTF-8
    yield writer.writerow(EXPORT_COLUMNS)
    for event in _in_chunks(events):
        yield writer.writerow(_export_row(event))


@login_required
@require_safe
def audit_log_export(request):
    """The filtered events as CSV, streamed; the export itself is audited."""
    _require_auditor(request.user)
    form, events = _filtered(request)
    if not form.is_valid():
        return render(request, "compliance/audit_log.html", {"form": form, "page": None}, status=400)
    audit.record(actor=request.user, action="audit_log.export", changes={"filters": form.used()})
    response = StreamingHttpResponse(_csv_lines(events), content_type="text/csv; charset=utf-8")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="audit-log-{stamp}.csv"'
    response["Cache-Control"] = "no-store"
    return response


# --- Chain verification --------------------------------------------------------------------------


@login_required
@require_POST
def audit_log_verify(request):
    """Walk the whole hash chain now and say whether it holds, or where it breaks."""
    _require_auditor(request.user)
    broken = audit.first_broken_event()
    context = {"broken": broken, "checked_at": timezone.now(), "total": AuditEvent.objects.count()}
    if _wants_partial(request):
        return render(request, "compliance/audit_verify.html", context)
    form, events = _filtered(request)
    page = Paginator(events, AUDIT_PAGE_SIZE).get_page(1)
    return render(request, "compliance/audit_log.html", {"form": form, "page": page, "verify": context})

