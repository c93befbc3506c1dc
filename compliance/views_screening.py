"""Language screening pages: the lexicon (list, add, deactivate) and the hits to review."""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.cache import patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST, require_safe

from accounts.models import Role
from compliance.models import ScreeningHit, ScreeningTerm
from compliance.selectors import case_scope
from compliance.services import (
    SCREENING_EDITORS,
    screening_hit_review,
    screening_term_add,
    screening_term_deactivate,
    screening_term_reactivate,
)
from config.errors import DomainError

TERMS_PAGE_SIZE = 100
HITS_PAGE_SIZE = 50
ANY = [("", gettext_lazy("any"))]


def _require_editor(user) -> None:
    if not (user.is_superuser or user.role in SCREENING_EDITORS):
        raise PermissionDenied(_("Language screening is for supervisors and compliance officers."))


def _wants_partial(request) -> bool:
    return bool(request.htmx) and not request.htmx.history_restore_request


def _back(request, default: str):
    """Back to the list the form was posted from (with its filters and page), if that is a local address."""
    back = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(back, {request.get_host()}, require_https=request.is_secure()):
        return redirect(back)
    return redirect(default)


# --- The lexicon ---------------------------------------------------------------------------------


class TermAddForm(forms.Form):
    language = forms.ChoiceField(label=gettext_lazy("Language"), choices=settings.LANGUAGES)
    category = forms.ChoiceField(label=gettext_lazy("Category"), choices=ScreeningTerm.Category.choices)
    term = forms.CharField(label=gettext_lazy("Word or phrase"), max_length=100)


class TermFilterForm(forms.Form):
    language = forms.ChoiceField(label=gettext_lazy("Language"), choices=ANY + list(settings.LANGUAGES), required=False)
    category = forms.ChoiceField(
        label=gettext_lazy("Category"), choices=ANY + list(ScreeningTerm.Category.choices), required=False
    )
    active = forms.ChoiceField(
        label=gettext_lazy("Status"),
        choices=ANY + [("yes", gettext_lazy("active")), ("no", gettext_lazy("inactive"))],
        required=False,
    )
    q = forms.CharField(label=gettext_lazy("Search"), required=False, max_length=100)

    def apply(self, terms: QuerySet[ScreeningTerm]) -> QuerySet[ScreeningTerm]:
        data = self.cleaned_data
        if data.get("language"):
            terms = terms.filter(language=data["language"])
        if data.get("category"):
            terms = terms.filter(category=data["category"])
        if data.get("active"):
            terms = terms.filter(active=data["active"] == "yes")
        if data.get("q"):
            terms = terms.filter(term__icontains=data["q"].strip())
        return terms


def _terms_page(request, add_form: TermAddForm, status: int = 200):
    filters = TermFilterForm(request.GET)
    terms = ScreeningTerm.objects.none()
    if filters.is_valid():
        # "zh-hans" sorts after "en": descending puts the Chinese list first.
        ordered = ScreeningTerm.objects.select_related("created_by").order_by("-language", "category", "term")
        terms = filters.apply(ordered)
    page = Paginator(terms, TERMS_PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"page": page, "filters": filters, "add_form": add_form}
    return render(request, "compliance/screening_terms.html", context, status=status)


@login_required
@require_safe
def screening_terms(request):
    """The lexicon, by language and category, with a form to add a term."""
    _require_editor(request.user)
    return _terms_page(request, TermAddForm())


@login_required
@require_POST
def screening_term_add_view(request):
    _require_editor(request.user)
    form = TermAddForm(request.POST)
    if not form.is_valid():
        return _terms_page(request, form, status=400)
    try:
        term = screening_term_add(actor=request.user, **form.cleaned_data)
    except DomainError as error:
        form.add_error("term", error.message)
        return _terms_page(request, form, status=error.http_status)
    messages.success(request, _("“%(term)s” is on the list now.") % {"term": term.term})
    return redirect("compliance:screening-terms")


@login_required
@require_POST
def screening_term_active_view(request, pk: int, active: bool):
    """Deactivate a term, or make an inactive one active again."""
    _require_editor(request.user)
    term = get_object_or_404(ScreeningTerm, pk=pk)
    try:
        if active:
            screening_term_reactivate(term_id=term.pk, actor=request.user)
            messages.success(request, _("“%(term)s” is active again.") % {"term": term.term})
        else:
            screening_term_deactivate(term_id=term.pk, actor=request.user)
            messages.success(request, _("“%(term)s” is no longer screened.") % {"term": term.term})
    except DomainError as error:
        messages.error(request, error.message)
    return _back(request, "compliance:screening-terms")


# --- Hits ----------------------------------------------------------------------------------------


def hits_visible_to(user) -> QuerySet[ScreeningHit]:
    """Compliance officers and administrators see every hit; a supervisor those on the cases of the teams
    they lead and those written by the members of those teams."""
    hits = ScreeningHit.objects.all()
    if user.sees_all_teams:
        return hits
    if user.role == Role.SUPERVISOR:
        own_team = Q(author__team_id=user.team_id) if user.team_id else Q(pk__in=[])
        return hits.filter(case_scope(user, path="case") | Q(author__team__supervisor=user) | own_team)
    return hits.none()


class HitFilterForm(forms.Form):
    author = forms.CharField(label=gettext_lazy("Author (user name)"), required=False, max_length=150)
    category = forms.ChoiceField(
        label=gettext_lazy("Category"), choices=ANY + list(ScreeningTerm.Category.choices), required=False
    )
    action = forms.ChoiceField(
        label=gettext_lazy("Action"), choices=ANY + list(ScreeningHit.Action.choices), required=False
    )
    source = forms.ChoiceField(
        label=gettext_lazy("Source"), choices=ANY + list(ScreeningHit.Source.choices), required=False
    )
    reviewed = forms.ChoiceField(
        label=gettext_lazy("Reviewed"),
        choices=ANY + [("no", gettext_lazy("not yet")), ("yes", gettext_lazy("reviewed"))],
        required=False,
    )

    def apply(self, hits: QuerySet[ScreeningHit]) -> QuerySet[ScreeningHit]:
        data = self.cleaned_data
        if data.get("author"):
            hits = hits.filter(author__username__iexact=data["author"].strip())
        if data.get("category"):
            # Categories are a JSON list; a quoted value is matched whole on every database.
            hits = hits.filter(categories__icontains=f'"{data["category"]}"')
        if data.get("action"):
            hits = hits.filter(action=data["action"])
        if data.get("source"):
            hits = hits.filter(source=data["source"])
        if data.get("reviewed"):
            hits = hits.filter(reviewed_at__isnull=data["reviewed"] == "no")
        return hits


class HitReviewForm(forms.Form):
    note = forms.CharField(label=gettext_lazy("Note"), required=False, max_length=500)


@login_required
@require_safe
def screening_hits(request):
    """Screened texts that matched, newest first, to be reviewed."""
    _require_editor(request.user)
    filters = HitFilterForm(request.GET)
    hits = ScreeningHit.objects.none()
    if filters.is_valid():
        hits = filters.apply(hits_visible_to(request.user)).select_related("author", "reviewed_by")
    page = Paginator(hits.order_by("-created_at", "-pk"), HITS_PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"page": page, "filters": filters, "review_form": HitReviewForm()}
    template = "compliance/screening_hits_results.html" if _wants_partial(request) else "compliance/screening_hits.html"
    response = render(request, template, context, status=200 if filters.is_valid() else 400)
    patch_vary_headers(response, ["HX-Request"])
    return response


@login_required
@require_POST
def screening_hit_review_view(request, pk: int):
    _require_editor(request.user)
    hit = get_object_or_404(hits_visible_to(request.user), pk=pk)
    form = HitReviewForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(" ".join(errors) for errors in form.errors.values()))
        return _back(request, "compliance:screening-hits")
    try:
        screening_hit_review(hit_id=hit.pk, actor=request.user, note=form.cleaned_data["note"])
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Hit marked as reviewed."))
    return _back(request, "compliance:screening-hits")
