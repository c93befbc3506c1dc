"""Follow-up of a signed agreement: payments settle installments, daily reminders and misses, breach and completion.

Locks, always in this order: the card account, the case, the agreement, its installments, then the audit chain.
`payment_record` already holds the account and the open case when it sends `payment_recorded`, so the receiver
only re-takes locks it owns; the nightly jobs take the account first and so queue behind a payment, never across it.

Waivers and the account: an offer finances principal + the interest and fees left after its waivers, so paying every
installment can leave the waived amounts overdue on the card account. Completion writes them off (at most the
offer's `total_waived`, interest first, then fees, then principal), records it in the audit log and clears the
account when nothing is left. Without that, the nightly aging would open a new case for the waived remainder the
day after the agreement was kept. The other way round, when the plan charges interest or fees the account can reach
zero before the last installment: the nightly `settle` leaves a case alone while it has an agreement in force
(`cases.services._settle_paid_cases`), so only completion or breach ends the follow-up.
"""

import logging
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from cases.models import CardAccount, Case, CaseEvidence, CaseStatus, Payment
from cases.services import case_evidence_record, case_transition_by_system
from compliance import audit
from compliance.models import Hold
from compliance.policy import Purpose
from compliance.reasons import ReasonCode
from compliance.services import hold_lift
from config.errors import Conflict, DomainError
from negotiation.models import Channel, FollowUpTask
from negotiation.services import message_send_template, task_create
from plans import messages
from plans.models import Agreement, Installment, InstallmentAllocation, PortalLink, Reminder

logger = logging.getLogger(__name__)

ZERO = Decimal("0.00")
BEFORE_DAYS = 3
# An after-miss reminder still goes out this many days after the miss if the job could not run on the day.
AFTER_MISS_CATCH_UP_DAYS = 6
REMINDER_TEMPLATES = {
    Reminder.Kind.BEFORE: messages.INSTALLMENT_BEFORE,
    Reminder.Kind.DUE_DAY: messages.INSTALLMENT_DUE_DAY,
    Reminder.Kind.AFTER_MISS: messages.INSTALLMENT_AFTER_MISS,
}


class FollowUpError:
    NOT_ALL_PAID = "installments_not_all_paid"


def _unpaid() -> Q:
    return Q(paid_amount__lt=F("amount"))


def _lock_for_agreement(agreement_id: int) -> tuple[CardAccount, Case, Agreement]:
    """Take the account, the case and the agreement, in the module's lock order."""
    account_id, case_id = Agreement.objects.filter(pk=agreement_id).values_list("case__account_id", "case_id").get()
    account = CardAccount.objects.select_for_update().get(pk=account_id)
    case = Case.objects.select_for_update(of=("self",)).get(pk=case_id)
    agreement = Agreement.objects.select_for_update().get(pk=agreement_id)
    return account, case, agreement


def _agreement_hold_lift(*, case_id: int, reason_code: str, number: str) -> None:
    for hold_id in Hold.objects.filter(
        case_id=case_id, kind=Hold.Kind.AGREEMENT_IN_FORCE, lifted_at__isnull=True
    ).values_list("pk", flat=True):
        hold_lift(hold_id=hold_id, reason_code=reason_code, reason_params={"number": number}, actor=None)


# --- Payments ------------------------------------------------------------------------------------


def installments_settle(*, payment_id: int) -> list[InstallmentAllocation]:
    """Spread a payment over the unpaid installments of the account's agreement in force, oldest due first
    (so missed ones before current ones); a part payment stays on its installment. A payment already
    allocated changes nothing. Completes the agreement when every installment is paid."""
    with transaction.atomic():
        payment = Payment.objects.get(pk=payment_id)
        agreement_id = (
            Agreement.objects.filter(case__account_id=payment.account_id, status=Agreement.Status.IN_FORCE)
            .values_list("pk", flat=True)
            .first()
        )
        if agreement_id is None:
            return []
        _account, case, agreement = _lock_for_agreement(agreement_id)
        if agreement.status != Agreement.Status.IN_FORCE:
            return []
        if InstallmentAllocation.objects.filter(payment=payment).exists():
            return []
        paid_on = timezone.localdate(payment.paid_at)
        left = payment.amount
        allocations, touched = [], []
        for installment in agreement.installments.select_for_update().filter(_unpaid()).order_by("due_date", "number"):
            if left <= 0:
                break
            take = min(left, installment.amount - installment.paid_amount)
            left -= take
            installment.paid_amount += take
            if installment.paid_amount == installment.amount:
                installment.status = Installment.Status.PAID
                installment.paid_on = paid_on
            allocations.append(InstallmentAllocation(installment=installment, payment=payment, amount=take))
            touched.append(installment)
        if not allocations:
            return []
        InstallmentAllocation.objects.bulk_create(allocations)
        Installment.objects.bulk_update(touched, ["paid_amount", "paid_on", "status"])
        audit.record(
            action="agreement.installments_settle",
            target=agreement,
            case_id=case.pk,
            changes={
                "payment": payment.external_ref,
                "allocations": [{"installment": a.installment.number, "amount": a.amount} for a in allocations],
                "unallocated": left,
            },
        )
        if not agreement.installments.filter(_unpaid()).exists():
            agreement_complete(agreement_id=agreement.pk)
    return allocations


def on_payment_recorded(sender, payment: Payment, **kwargs) -> None:
    """Receiver of `cases.signals.payment_recorded`, inside the payment's transaction."""
    installments_settle(payment_id=payment.pk)


# --- Completion ----------------------------------------------------------------------------------


def _waiver_write_off(*, account: CardAccount, waived: Decimal) -> dict[str, Decimal]:
    """Write off what the waivers forgave and the account still shows, up to the waived total."""
    budget = min(waived, account.principal_overdue + account.interest_overdue + account.fees_overdue)
    taken = {}
    for part in ("interest_overdue", "fees_overdue", "principal_overdue"):
        take = min(budget, getattr(account, part))
        budget -= take
        taken[part] = take
        setattr(account, part, getattr(account, part) - take)
    if sum(taken.values()) > 0:
        fields = ["principal_overdue", "interest_overdue", "fees_overdue", "updated_at"]
        if account.principal_overdue + account.interest_overdue + account.fees_overdue == 0:
            account.delinquent_since = None
            fields.append("delinquent_since")
        account.save(update_fields=fields)
    return taken


def agreement_complete(*, agreement_id: int) -> Agreement:
    """Every installment is paid: the agreement is completed, the waived remainder written off, a revisit
    scheduled, the case resolved and its hold lifted; the thank-you with the survey link goes after commit.
    Running it again changes nothing."""
    with transaction.atomic():
        account, case, agreement = _lock_for_agreement(agreement_id)
        if agreement.status != Agreement.Status.IN_FORCE:
            return agreement
        if agreement.installments.filter(_unpaid()).exists():
            raise Conflict(_("Not every installment of this agreement is paid."), code=FollowUpError.NOT_ALL_PAID)
        agreement.status = Agreement.Status.COMPLETED
        agreement.ended_at = timezone.now()
        agreement.save(update_fields=["status", "ended_at"])
        written_off = _waiver_write_off(account=account, waived=agreement.offer.total_waived)
        audit.record(
            action="agreement.complete",
            target=agreement,
            case_id=case.pk,
            changes={"status": [Agreement.Status.IN_FORCE, agreement.status], "written_off": written_off},
        )
        # The hold before the case is resolved, so that it is lifted for this reason.
        _agreement_hold_lift(case_id=case.pk, reason_code=ReasonCode.AGREEMENT_COMPLETED, number=agreement.number)
        if case.status == CaseStatus.FOLLOW_UP:
            # The task first: a resolved case takes no new tasks.
            task_create(
                case_id=case.pk,
                kind=FollowUpTask.Kind.REVISIT,
                due_on=timezone.localdate() + timedelta(days=settings.REVISIT_AFTER_DAYS),
                actor=None,
                note_code=ReasonCode.AGREEMENT_REVISIT,
                note_params={"number": agreement.number},
            )
            case_transition_by_system(
                case_id=case.pk,
                name="complete",
                reason_code=ReasonCode.AGREEMENT_PAID,
                reason_params={"number": agreement.number},
            )
        from plans.tasks import send_agreement_thanks

        send_agreement_thanks.delay_on_commit(agreement.pk)
    return agreement


def agreement_thanks_send(*, agreement_id: int) -> PortalLink | None:
    """The thank-you with a fresh portal link to the survey, once per completed agreement."""
    from plans.portal import portal_link_issue

    with transaction.atomic():
        # The case before the agreement (the module's lock order); portal_link_issue takes the case too.
        case_id = Agreement.objects.filter(pk=agreement_id).values_list("case_id", flat=True).get()
        Case.objects.select_for_update().filter(pk=case_id).values_list("pk", flat=True).get()
        agreement = Agreement.objects.select_for_update().get(pk=agreement_id)
        if agreement.status != Agreement.Status.COMPLETED:
            return None
        # Staff never issue links after completion (a link needs a ready offer), so a system link since
        # then is this thank-you.
        if PortalLink.objects.filter(
            case_id=agreement.case_id, created_by__isnull=True, created_at__gte=agreement.ended_at
        ).exists():
            return None
        try:
            link, _token = portal_link_issue(
                case_id=agreement.case_id,
                actor=None,
                channel=Channel.SMS,
                template_code=messages.AGREEMENT_THANKS,
                extra_values={"agreement_number": agreement.number},
            )
        except DomainError as error:
            logger.warning("No thank-you for agreement %s: %s", agreement.number, error.message)
            return None
    return link


# --- Misses and breach ---------------------------------------------------------------------------


def installments_judge(*, today: date | None = None) -> dict[str, int]:
    """Installments still unpaid more than INSTALLMENT_GRACE_DAYS after their due date are missed; an
    agreement with INSTALLMENT_MISSES_TO_BREACH misses is breached. Safe to run twice."""
    today = today or timezone.localdate()
    last_due = today - timedelta(days=settings.INSTALLMENT_GRACE_DAYS + 1)
    late = Installment.objects.filter(
        _unpaid(), status=Installment.Status.DUE, due_date__lte=last_due, agreement__status=Agreement.Status.IN_FORCE
    )
    over_limit = Agreement.objects.filter(
        status=Agreement.Status.IN_FORCE, missed_count__gte=settings.INSTALLMENT_MISSES_TO_BREACH
    )
    agreement_ids = sorted(
        set(late.values_list("agreement_id", flat=True)) | set(over_limit.values_list("pk", flat=True))
    )
    counts = {"missed": 0, "breached": 0}
    for agreement_id in agreement_ids:
        missed, breached = _agreement_judge(agreement_id=agreement_id, last_due=last_due, today=today)
        counts["missed"] += missed
        counts["breached"] += breached
    return counts


def _agreement_judge(*, agreement_id: int, last_due: date, today: date) -> tuple[int, bool]:
    with transaction.atomic():
        _account, case, agreement = _lock_for_agreement(agreement_id)
        if agreement.status != Agreement.Status.IN_FORCE:
            return 0, False
        missed = list(
            agreement.installments.select_for_update()
            .filter(_unpaid(), status=Installment.Status.DUE, due_date__lte=last_due)
            .order_by("due_date", "number")
        )
        if missed:
            Installment.objects.filter(pk__in=[i.pk for i in missed]).update(status=Installment.Status.MISSED)
            before = agreement.missed_count
            agreement.missed_count = before + len(missed)
            agreement.save(update_fields=["missed_count"])
            audit.record(
                action="agreement.installments_missed",
                target=agreement,
                case_id=case.pk,
                changes={
                    "installments": [i.number for i in missed],
                    "missed_count": [before, agreement.missed_count],
                    "date": today,
                },
            )
        if agreement.missed_count < settings.INSTALLMENT_MISSES_TO_BREACH:
            return len(missed), False
        agreement_breach(agreement_id=agreement.pk, today=today)
    return len(missed), True


def agreement_breach(
    *, agreement_id: int, today: date | None = None, decided_by: User | None = None, reason: str = ""
) -> Agreement:
    """The agreement ends unkept: the case moves to broken, the hold is lifted so collection resumes, the
    collector gets a call task, and missed installments with nothing paid count as broken promises. Without
    `decided_by` it is the installment judge's (the misses reached INSTALLMENT_MISSES_TO_BREACH, which the case's
    system condition checks); with it, a supervisor's decision after at least one miss that case_transition has
    checked (role, reason, the miss)."""
    today = today or timezone.localdate()
    with transaction.atomic():
        _account, case, agreement = _lock_for_agreement(agreement_id)
        if agreement.status != Agreement.Status.IN_FORCE:
            return agreement
        if case.status == CaseStatus.FOLLOW_UP:
            # While the agreement is still in force: its misses are the facts the transition's guards read.
            # A supervisor's decision keeps the reason they typed; the judge's is worded in each reader's language.
            worded = (
                {"reason": reason}
                if decided_by is not None
                else {
                    "reason_code": ReasonCode.INSTALLMENTS_MISSED,
                    "reason_params": {"count": agreement.missed_count, "number": agreement.number},
                }
            )
            case_transition_by_system(case_id=case.pk, name="breach", decided_by=decided_by, **worded)
        agreement.status = Agreement.Status.BREACHED
        agreement.ended_at = timezone.now()
        agreement.save(update_fields=["status", "ended_at"])
        audit.record(
            actor=decided_by,
            action="agreement.breach",
            target=agreement,
            case_id=case.pk,
            changes={"status": [Agreement.Status.IN_FORCE, agreement.status], "missed_count": agreement.missed_count},
            reason=reason,
        )
        _agreement_hold_lift(case_id=case.pk, reason_code=ReasonCode.AGREEMENT_BREACHED, number=agreement.number)
        if case.is_open:
            task_create(
                case_id=case.pk,
                kind=FollowUpTask.Kind.CALL,
                due_on=today,
                actor=None,
                note_code=ReasonCode.AGREEMENT_BREACH_CALL,
                note_params={"number": agreement.number},
            )
        # Like a broken promise to pay: only an installment on which nothing at all was paid counts.
        for installment in agreement.installments.filter(status=Installment.Status.MISSED, paid_amount=0):
            case_evidence_record(
                case_id=case.pk,
                kind=CaseEvidence.Kind.BROKEN_PROMISE,
                occurred_on=installment.due_date,
                detail=_("Installment %(number)d of agreement %(agreement)s (%(amount)s due %(date)s) was not paid.")
                % {
                    "number": installment.number,
                    "agreement": agreement.number,
                    "amount": installment.amount,
                    "date": installment.due_date.isoformat(),
                },
                source_ref=f"installment:{installment.pk}",
            )
    return agreement


def agreement_breach_by_person(*, case_id: int, actor: User, reason: str) -> Agreement:
    """The service behind a person's `breach` of a case (registered with cases.services): case_transition has
    checked the role, the reason and that an installment was missed; this ends the agreement in force with it."""
    agreement_id = (
        Agreement.objects.filter(case_id=case_id, status=Agreement.Status.IN_FORCE).values_list("pk", flat=True).get()
    )
    return agreement_breach(agreement_id=agreement_id, decided_by=actor, reason=reason)


# --- Reminders -----------------------------------------------------------------------------------


def _reminder_candidates(kind: str, today: date):
    """Installments of agreements in force owed a reminder of `kind` today that have none yet."""
    open_installments = Installment.objects.filter(_unpaid(), agreement__status=Agreement.Status.IN_FORCE).exclude(
        Exists(Reminder.objects.filter(installment=OuterRef("pk"), kind=kind))
    )
    if kind == Reminder.Kind.BEFORE:
        # Up to three days ahead: an agreement signed two days before its first due date is reminded too.
        return open_installments.filter(
            status=Installment.Status.DUE, due_date__gt=today, due_date__lte=today + timedelta(days=BEFORE_DAYS)
        )
    if kind == Reminder.Kind.DUE_DAY:
        return open_installments.filter(status=Installment.Status.DUE, due_date=today)
    first_miss_day = today - timedelta(days=settings.INSTALLMENT_GRACE_DAYS + 1 + AFTER_MISS_CATCH_UP_DAYS)
    return open_installments.filter(status=Installment.Status.MISSED, due_date__gte=first_miss_day)


def reminders_send(*, today: date | None = None) -> int:
    """Daily: hand each owed reminder to a task (one selection query per kind, whatever the count).
    The unique Reminder row makes each go out once, however often this or the task runs."""
    from plans.tasks import send_installment_reminder

    today = today or timezone.localdate()
    queued = 0
    with transaction.atomic():
        for kind in Reminder.Kind.values:
            for installment_id in _reminder_candidates(kind, today).order_by("pk").values_list("pk", flat=True):
                send_installment_reminder.delay_on_commit(installment_id, kind)
                queued += 1
    return queued


def reminder_send(*, installment_id: int, kind: str) -> Reminder | None:
    """Queue one reminder through the outbox (the gate judges hours and holds when it is sent) in the
    transaction that creates its unique row; None when it went already or is no longer owed."""
    with transaction.atomic():
        installment = (
            Installment.objects.select_related("agreement").filter(pk=installment_id).filter(_unpaid()).first()
        )
        wanted = Installment.Status.MISSED if kind == Reminder.Kind.AFTER_MISS else Installment.Status.DUE
        if (
            installment is None
            or installment.status != wanted
            or installment.agreement.status != Agreement.Status.IN_FORCE
        ):
            return None
        try:
            with transaction.atomic():
                reminder = Reminder.objects.create(installment=installment, kind=kind)
        except IntegrityError:
            return None
        agreement = installment.agreement
        message = message_send_template(
            case_id=agreement.case_id,
            code=REMINDER_TEMPLATES[kind],
            channel=Channel.SMS,
            purpose=Purpose.SERVICE,
            idempotency_key=f"installment-{installment.pk}-{kind}",
            extra_values={
                "due_date": installment.due_date.isoformat(),
                "amount": f"{installment.amount - installment.paid_amount:,.2f}",
                "agreement_number": agreement.number,
            },
            actor=None,
        )
        reminder.message = message
        reminder.save(update_fields=["message"])
        audit.record(
            action="installment.remind",
            target=reminder,
            case_id=agreement.case_id,
            changes={"installment": installment.number, "kind": kind, "message": message.pk},
        )
    return reminder
