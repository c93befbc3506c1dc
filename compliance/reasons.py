"""Reasons the system writes (an automatic transition, a hold it sets or lifts) are kept as a code and its
parameters and put into words in the reader's language; what a person typed is kept as typed, with no code.

Every app may use this module (compliance sits beside the others). A parameter named in `translated` is
stored as the English source text of a label (e.g. a contact outcome) and translated when shown."""

import re
from dataclasses import dataclass

from django.conf import settings
from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


class ReasonCode:
    OVERDUE_PAID = "overdue_paid"
    AGREEMENT_SIGNED = "agreement_signed"
    CASE_ENDED = "case_ended"
    AGREEMENT_SIGNED_AT_BRANCH = "agreement_signed_at_branch"
    AGREEMENT_PAID = "agreement_paid"
    AGREEMENT_COMPLETED = "agreement_completed"
    INSTALLMENTS_MISSED = "installments_missed"
    AGREEMENT_BREACHED = "agreement_breached"
    DISPUTE_IN_CONTACT = "dispute_in_contact"
    COMPLAINT_INVESTIGATED = "complaint_investigated"
    COMPLAINT_RESOLVED = "complaint_resolved"
    PLAN_OFFERED = "plan_offered"
    CONTACT_OUTCOME = "contact_outcome"
    # Notes of the follow-up tasks the system makes.
    PROMISE_REVIEW = "promise_review"
    AGREEMENT_REVISIT = "agreement_revisit"
    AGREEMENT_BREACH_CALL = "agreement_breach_call"
    STRATEGY_STEP = "strategy_step"
    COUNTER_OFFER_UNJUDGED = "counter_offer_unjudged"
    COUNTER_OFFER_AFFORDABLE = "counter_offer_affordable"
    COUNTER_OFFER_UNAFFORDABLE = "counter_offer_unaffordable"
    OFFER_APPROVED = "offer_approved"
    OFFER_REJECTED = "offer_rejected"


@dataclass(frozen=True)
class SystemReason:
    text: Promise
    translated: tuple[str, ...] = ()


REASONS: dict[str, SystemReason] = {
    ReasonCode.OVERDUE_PAID: SystemReason(_("Overdue amount paid in full.")),
    ReasonCode.AGREEMENT_SIGNED: SystemReason(_("Agreement %(number)s signed by the cardholder in the portal.")),
    ReasonCode.AGREEMENT_SIGNED_AT_BRANCH: SystemReason(
        _("Agreement %(number)s signed on paper at a branch; scan confirmed by %(name)s.")
    ),
    ReasonCode.CASE_ENDED: SystemReason(_("Lifted: the case was %(state)s."), translated=("state",)),
    ReasonCode.AGREEMENT_PAID: SystemReason(_("Every installment of agreement %(number)s was paid.")),
    ReasonCode.AGREEMENT_COMPLETED: SystemReason(_("Agreement %(number)s was completed.")),
    ReasonCode.INSTALLMENTS_MISSED: SystemReason(_("%(count)d installments of agreement %(number)s were missed.")),
    ReasonCode.AGREEMENT_BREACHED: SystemReason(_("Agreement %(number)s was breached.")),
    ReasonCode.DISPUTE_IN_CONTACT: SystemReason(_("Dispute raised in a contact.")),
    ReasonCode.COMPLAINT_INVESTIGATED: SystemReason(
        _("Complaint #%(number)s under investigation: %(category)s"), translated=("category",)
    ),
    ReasonCode.COMPLAINT_RESOLVED: SystemReason(_("Complaint #%(number)s resolved.")),
    ReasonCode.PLAN_OFFERED: SystemReason(_("Repayment plan offered.")),
    ReasonCode.CONTACT_OUTCOME: SystemReason(_("Contact: %(outcome)s"), translated=("outcome",)),
    ReasonCode.PROMISE_REVIEW: SystemReason(
        _("Promise of %(amount)s due %(date)s: %(status)s."), translated=("status",)
    ),
    ReasonCode.AGREEMENT_REVISIT: SystemReason(_("Revisit: agreement %(number)s was kept.")),
    ReasonCode.AGREEMENT_BREACH_CALL: SystemReason(_("Agreement %(number)s breached: call the cardholder.")),
    ReasonCode.STRATEGY_STEP: SystemReason(_("Contact strategy: %(action)s"), translated=("action",)),
    ReasonCode.COUNTER_OFFER_UNJUDGED: SystemReason(
        _(
            "Counter-offer from the portal: %(amount)s a month for %(months)d months "
            "(no verified disposable income yet)."
        )
    ),
    ReasonCode.COUNTER_OFFER_AFFORDABLE: SystemReason(
        _(
            "Counter-offer from the portal: %(amount)s a month for %(months)d months "
            "(within the verified disposable income of %(income)s)."
        )
    ),
    ReasonCode.COUNTER_OFFER_UNAFFORDABLE: SystemReason(
        _(
            "Counter-offer from the portal: %(amount)s a month for %(months)d months "
            "(above the verified disposable income of %(income)s)."
        )
    ),
    ReasonCode.OFFER_APPROVED: SystemReason(
        _("Offer approved: %(kind)s, %(months)s months, largest installment %(amount)s."), translated=("kind",)
    ),
    ReasonCode.OFFER_REJECTED: SystemReason(
        _("Offer rejected: %(kind)s, %(months)s months, largest installment %(amount)s. %(reason)s"),
        translated=("kind",),
    ),
}


class UnknownReason(ValueError):
    """A system reason code with no template, or parameters its template does not take."""


def source_text(label) -> str:
    """The English source text of a translatable label, the form a `translated` parameter is stored in."""
    with translation.override("en"):
        return str(label)


def reason_text(code: str, params: dict | None, fallback: str = "") -> str:
    """The reason in the active language; `fallback` (what is stored as text) when there is no code."""
    reason = REASONS.get(code) if code else None
    if reason is None:
        return fallback
    values = {
        name: gettext(value) if name in reason.translated and isinstance(value, str) else value
        for name, value in (params or {}).items()
    }
    try:
        return str(reason.text) % values
    except (KeyError, TypeError, ValueError):
        return fallback


def reason_stored(code: str, params: dict | None = None) -> str:
    """The text kept beside the code (and in the audit log): the reason in the bank's language."""
    if code not in REASONS:
        raise UnknownReason(code)
    with translation.override(settings.LANGUAGE_CODE):
        text = reason_text(code, params)
    if not text:
        raise UnknownReason(code)
    return text


_PLACEHOLDER = re.compile(r"%\((\w+)\)([sd])")


def _pattern(template: str) -> re.Pattern:
    parts, last = [], 0
    for match in _PLACEHOLDER.finditer(template):
        parts.append(re.escape(template[last:match.start()]))
        parts.append(rf"(?P<{match[1]}>\d+)" if match[2] == "d" else rf"(?P<{match[1]}>.+?)")
        last = match.end()
    parts.append(re.escape(template[last:]))
    return re.compile("".join(parts) + r"\Z", re.DOTALL)


def reason_match(text: str, codes=None, labels: dict[str, str] | None = None) -> tuple[str, dict] | None:
    """The code and parameters of a stored system text in English or Chinese (data migrations map old rows
    with it); None when it is no known system text. `labels` maps a translated label back to its source."""
    text = (text or "").strip()
    for code in codes or REASONS:
        reason = REASONS[code]
        for language in ("en", "zh-hans"):
            with translation.override(language):
                template = str(reason.text)
            found = _pattern(template).match(text)
            if found is None:
                continue
            params = {
                name: int(value) if f"%({name})d" in template else value for name, value in found.groupdict().items()
            }
            for name in reason.translated:
                source = (labels or {}).get(params.get(name))
                if source is None:
                    break
                params[name] = source
            else:
                return code, params
    return None
