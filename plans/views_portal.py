"""The cardholder portal (/p/<token>/): phone first, its own base template, no staff navigation.

Nothing about the case shows before the identity check (last four of the id, then an SMS code); the
verified state lives in the session, keyed by the link. Every request to a link is rate-limited per link (its
token's hash), so cardholders behind one address never share a limit; a request whose token opens no link is
limited per client address. A wrong, expired or revoked token gets one friendly 404 page."""

import time
from decimal import Decimal
from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.core.cache import cache
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from cases.models import Case
from compliance.middleware import client_ip
from compliance.models import AuditEvent
from config.errors import DomainError
from plans.agreements import agreement_pdf_bytes, agreement_sign
from plans.codes import CodeRefused, CodeThrottled, code_send, code_verify
from plans.models import Agreement, Installment, Offer, OneTimeCode, PortalEvent, PortalLink
from plans.portal import (
    Client,
    LinkInvalid,
    LinkLocked,
    counter_offer_submit,
    portal_agreement,
    portal_code_failed,
    portal_event_record,
    portal_identity_check,
    portal_identity_verified,
    portal_link_resolve,
    portal_offer_accept,
    portal_offers,
    schedule_rows,
    survey_submit,
)
from plans.portal_forms import CodeForm, CounterOfferForm, IdentityForm, SignForm, SurveyForm

PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
STEP_CODE = "code"
STEP_VERIFIED = "verified"


# --- Rate limit, link and session ------------------------------------------------------------------


def portal_rate() -> tuple[int, int]:
    """settings.PORTAL_RATE ("30/minute") as (requests, seconds)."""
    count, _sep, period = settings.PORTAL_RATE.partition("/")
    return int(count), PERIODS[period.strip()[:1].lower()]


def _hit(key: str, seconds: int) -> int:
    cache.add(key, 0, timeout=seconds + 1)
    try:
        return cache.incr(key)
    except ValueError:  # the key expired between add and incr
        cache.set(key, 1, timeout=seconds + 1)
        return 1


def rate_key(request, link: PortalLink | None) -> str:
    """The bucket a portal request counts in: its link's token hash, or for a token that opens no link the
    client address (so guessing tokens is limited where it comes from)."""
    if link is not None:
        return f"portal-rate:link:{link.token_hash[:32]}"
    return f"portal-rate:ip:{client_ip(request) or '-'}"


def _over_limit(request, link: PortalLink | None) -> bool:
    """A fixed window per bucket."""
    limit, seconds = portal_rate()
    window = int(time.time() // seconds)
    return _hit(f"{rate_key(request, link)}:{window}", seconds) > limit


def _client(request) -> Client:
    return Client(ip=client_ip(request), user_agent=request.META.get("HTTP_USER_AGENT", "")[:300])


def _page(request, template: str, context: dict | None = None, *, status: int = 200):
    context = {"bank_phone": settings.BANK_PHONE, "bank_hours": settings.BANK_HOURS, **(context or {})}
    return render(request, template, context, status=status)


def _invalid(request):
    return _page(request, "portal/invalid.html", status=404)


def portal_page(view):
    """Rate limit, then open the link; every bad token, and anything not of this link's case, gets the one
    404 page. Never cached: the pages carry personal data."""

    @never_cache
    @wraps(view)
    def wrapped(request, token: str, *args, **kwargs):
        try:
            link = portal_link_resolve(token)
        except LinkInvalid:
            link = None
        if _over_limit(request, link):
            return _page(request, "portal/rate_limited.html", status=429)
        if link is None:
            return _invalid(request)
        try:
            return view(request, link, token, *args, **kwargs)
        except (LinkInvalid, Offer.DoesNotExist, Agreement.DoesNotExist):
            return _invalid(request)

    return wrapped


def _session_key(link: PortalLink) -> str:
    return f"portal-link-{link.pk}"


def _step(request, link: PortalLink) -> str:
    state = request.session.get(_session_key(link)) or {}
    return state.get("step", "")


def _set_step(request, link: PortalLink, step: str) -> None:
    request.session[_session_key(link)] = {"step": step, "opened": True}


def verified_only(view):
    """Pages with the case's data: only for the verified session of this link."""

    @wraps(view)
    def wrapped(request, link: PortalLink, token: str, *args, **kwargs):
        if _step(request, link) != STEP_VERIFIED:
            return redirect("portal:home", token)
        return view(request, link, token, *args, **kwargs)

    return wrapped


# --- Identity --------------------------------------------------------------------------------------


def _locked_until(link: PortalLink):
    return link.locked_until if link.locked_until is not None and link.locked_until > timezone.now() else None


def _locked(request, locked_until):
    return _page(request, "portal/locked.html", {"locked_until": locked_until}, status=403)


def _locked_now(link: PortalLink):
    """The link's lock as stored now: a wrong code may just have set it."""
    link.refresh_from_db(fields=["locked_until"])
    return _locked_until(link)


def _identity_page(request, link: PortalLink, token: str, *, form=None, problems=(), status: int = 200):
    """The step of the form given, else the step the session is at: the last four of the id, or the code."""
    at_code = isinstance(form, CodeForm) if form is not None else _step(request, link) == STEP_CODE
    context = {
        "token": token,
        "form": form or (CodeForm() if at_code else IdentityForm()),
        "problems": problems,
    }
    return _page(request, "portal/code.html" if at_code else "portal/identity.html", context, status=status)


@require_safe
@portal_page
def home(request, link: PortalLink, token: str):
    state = request.session.get(_session_key(link)) or {}
    if not state.get("opened"):
        portal_event_record(link_id=link.pk, kind=PortalEvent.Kind.OPENED, client=_client(request))
        request.session[_session_key(link)] = {**state, "opened": True}
    locked_until = _locked_until(link)
    if locked_until is not None:
        return _locked(request, locked_until)
    if _step(request, link) == STEP_VERIFIED:
        return _dashboard(request, link, token)
    return _identity_page(request, link, token)


@require_POST
@portal_page
def identity(request, link: PortalLink, token: str):
    form = IdentityForm(request.POST)
    if not form.is_valid():
        return _identity_page(request, link, token, form=form, status=400)
    try:
        portal_identity_check(link_id=link.pk, last_four=form.cleaned_data["last_four"], client=_client(request))
    except LinkLocked as locked:
        return _locked(request, locked.locked_until)
    except DomainError as error:
        return _identity_page(request, link, token, form=form, problems=[error.message], status=error.http_status)
    try:
        code_send(link_id=link.pk, purpose=OneTimeCode.Purpose.IDENTITY)
    except CodeThrottled:
        messages.info(request, _("A code was sent to you a moment ago; please enter it."))
    except LinkLocked as locked:
        return _locked(request, locked.locked_until)
    except DomainError as error:
        return _identity_page(request, link, token, form=form, problems=[error.message], status=error.http_status)
    else:
        messages.success(request, _("We have sent a code to your registered mobile number."))
    _set_step(request, link, STEP_CODE)
    return redirect("portal:home", token)


@require_POST
@portal_page
def identity_code(request, link: PortalLink, token: str):
    if _step(request, link) != STEP_CODE:
        return redirect("portal:home", token)
    form = CodeForm(request.POST)
    if not form.is_valid():
        return _identity_page(request, link, token, form=form, status=400)
    try:
        code_verify(link_id=link.pk, purpose=OneTimeCode.Purpose.IDENTITY, code=form.cleaned_data["code"])
    except DomainError as error:
        portal_code_failed(link_id=link.pk, purpose=OneTimeCode.Purpose.IDENTITY, error=error, client=_client(request))
        if (locked_until := _locked_now(link)) is not None:
            return _locked(request, locked_until)
        return _identity_page(request, link, token, form=form, problems=[error.message], status=error.http_status)
    # A new session key once the cardholder is known, so a planted session id gains nothing.
    request.session.cycle_key()
    _set_step(request, link, STEP_VERIFIED)
    portal_identity_verified(link_id=link.pk, client=_client(request))
    return redirect("portal:home", token)


@require_POST
@portal_page
def identity_code_resend(request, link: PortalLink, token: str):
    if _step(request, link) != STEP_CODE:
        return redirect("portal:home", token)
    try:
        code_send(link_id=link.pk, purpose=OneTimeCode.Purpose.IDENTITY)
    except LinkLocked as locked:
        return _locked(request, locked.locked_until)
    except DomainError as error:
        return _identity_page(request, link, token, problems=[error.message], status=error.http_status)
    messages.success(request, _("We have sent a new code to your registered mobile number."))
    return redirect("portal:home", token)


# --- The case: debt, offers, agreement -------------------------------------------------------------


def _offer_card(offer: Offer) -> dict:
    rows = schedule_rows(offer)
    amounts = [row["amount"] for row in rows if row["amount"] > 0]
    return {
        "offer": offer,
        "rows": rows,
        "monthly_min": min(amounts, default=None),
        "monthly_max": max(amounts, default=None),
        "payments": len(amounts),
    }


def _case(link: PortalLink) -> Case:
    return Case.objects.select_related("account__debtor").get(pk=link.case_id)


def _has_survey(agreement: Agreement) -> bool:
    try:
        return agreement.survey is not None
    except Agreement.survey.RelatedObjectDoesNotExist:
        return False


def _dashboard(request, link: PortalLink, token: str, *, status: int = 200, **extra):
    """The open offers to compare, or, once signed, the agreement with its installments and the survey.
    A constant number of queries, whatever the number of offers or installments."""
    case = _case(link)
    offers = portal_offers(case.pk)
    agreement = portal_agreement(case.pk)
    context = {"token": token, "case": case, "account": case.account, "name": case.account.debtor.full_name, **extra}
    # After a breach, new offers come first; otherwise a signed agreement is what the link is about.
    if agreement is not None and not (offers and agreement.status == Agreement.Status.BREACHED):
        installments = list(agreement.installments.all())
        context |= {
            "agreement": agreement,
            "installments": installments,
            "counts": {s: sum(1 for i in installments if i.status == s) for s in Installment.Status.values},
            "survey_open": agreement.status == Agreement.Status.COMPLETED and not _has_survey(agreement),
            "survey_form": extra.get("survey_form") or SurveyForm(),
        }
        return _page(request, "portal/agreement.html", context, status=status)
    context["cards"] = [_offer_card(offer) for offer in offers]
    return _page(request, "portal/home.html", context, status=status)


@require_POST
@portal_page
@verified_only
def offer_accept(request, link: PortalLink, token: str, offer_id: int):
    try:
        portal_offer_accept(link_id=link.pk, offer_id=offer_id, client=_client(request))
    except DomainError as error:
        return _dashboard(request, link, token, problems=[error.message], status=error.http_status)
    return redirect("portal:review", token, offer_id)


def _accepted_offer(link: PortalLink, offer_id: int) -> Offer:
    return Offer.objects.get(pk=offer_id, case_id=link.case_id)


def _percent(rate: Decimal) -> str:
    """0.072 → "7.2": rates are stored as fractions, read as percentages."""
    return format(rate * 100, "f").rstrip("0").rstrip(".") or "0"


def _review_page(request, link: PortalLink, token: str, offer: Offer, *, form=None, problems=(), status: int = 200):
    case = _case(link)
    context = {
        "token": token,
        "offer": offer,
        "case": case,
        "account": case.account,
        "card": _offer_card(offer),
        "annual_pct": _percent(offer.annual_rate),
        "monthly_fee_pct": _percent(offer.monthly_fee_rate),
        "grace_days": settings.INSTALLMENT_GRACE_DAYS,
        "misses_to_breach": settings.INSTALLMENT_MISSES_TO_BREACH,
        "form": form or SignForm(),
        "problems": problems,
    }
    return _page(request, "portal/review.html", context, status=status)


@require_safe
@portal_page
@verified_only
def review(request, link: PortalLink, token: str, offer_id: int):
    """The agreement's terms in words and figures, then name, consent, code, sign."""
    offer = _accepted_offer(link, offer_id)
    if offer.status != Offer.Status.ACCEPTED:
        return redirect("portal:home", token)
    return _review_page(request, link, token, offer)


@require_POST
@portal_page
@verified_only
def sign_code(request, link: PortalLink, token: str, offer_id: int):
    offer = _accepted_offer(link, offer_id)
    try:
        code_send(link_id=link.pk, purpose=OneTimeCode.Purpose.SIGN)
    except LinkLocked as locked:
        return _locked(request, locked.locked_until)
    except DomainError as error:
        return _review_page(request, link, token, offer, problems=[error.message], status=error.http_status)
    messages.success(request, _("We have sent a signing code to your registered mobile number."))
    return redirect("portal:review", token, offer.pk)


@require_POST
@portal_page
@verified_only
def sign(request, link: PortalLink, token: str, offer_id: int):
    offer = _accepted_offer(link, offer_id)
    form = SignForm(request.POST)
    if not form.is_valid():
        return _review_page(request, link, token, offer, form=form, status=400)
    client = _client(request)
    try:
        agreement_sign(
            offer_id=offer.pk,
            link_id=link.pk,
            signer_name=form.cleaned_data["signer_name"],
            consent=form.cleaned_data["consent"],
            code=form.cleaned_data["code"],
            ip=client.ip,
            user_agent=client.user_agent,
        )
    except DomainError as error:
        if isinstance(error, CodeRefused):
            portal_code_failed(link_id=link.pk, purpose=OneTimeCode.Purpose.SIGN, error=error, client=client)
        if (locked_until := _locked_now(link)) is not None:
            return _locked(request, locked_until)
        offer.refresh_from_db()
        return _review_page(request, link, token, offer, form=form, problems=[error.message], status=error.http_status)
    messages.success(request, _("Thank you. Your repayment agreement is signed."))
    return redirect("portal:home", token)


@require_safe
@portal_page
@verified_only
def agreement_pdf(request, link: PortalLink, token: str, agreement_id: int):
    """The signed PDF, only to the verified session of a link of the agreement's own case."""
    agreement = Agreement.objects.get(pk=agreement_id, case_id=link.case_id)
    try:
        content = agreement_pdf_bytes(
            agreement=agreement, actor_kind=AuditEvent.ActorKind.CARDHOLDER, actor_label=f"portal link {link.pk}"
        )
    except DomainError as error:
        return _dashboard(request, link, token, problems=[error.message], status=error.http_status)
    portal_event_record(
        link_id=link.pk, kind=PortalEvent.Kind.DOWNLOADED, client=_client(request), detail={"agreement": agreement.pk}
    )
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{agreement.number}.pdf"'
    return response


# --- Counter-offer and survey ----------------------------------------------------------------------


@require_http_methods(["GET", "HEAD", "POST"])
@portal_page
@verified_only
def counter_offer(request, link: PortalLink, token: str):
    """"None of these fits?": the cardholder's own monthly amount and months, with a reason."""
    form = CounterOfferForm(request.POST or None)
    problems: list[str] = []
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                counter_offer_submit(link_id=link.pk, client=_client(request), **form.cleaned_data)
            except DomainError as error:
                problems, status = [error.message], error.http_status
            else:
                messages.success(
                    request, _("Thank you. Your proposal was passed to your case handler, who will contact you soon.")
                )
                return redirect("portal:home", token)
        else:
            status = 400
    context = {"token": token, "form": form, "problems": problems, "account": _case(link).account}
    return _page(request, "portal/counter_offer.html", context, status=status)


@require_POST
@portal_page
@verified_only
def survey(request, link: PortalLink, token: str):
    form = SurveyForm(request.POST)
    if not form.is_valid():
        return _dashboard(request, link, token, survey_form=form, status=400)
    try:
        survey_submit(link_id=link.pk, client=_client(request), **form.cleaned_data)
    except DomainError as error:
        return _dashboard(request, link, token, problems=[error.message], status=error.http_status)
    messages.success(request, _("Thank you for your feedback."))
    return redirect("portal:home", token)
