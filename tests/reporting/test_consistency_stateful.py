"""The services never leave a contradiction: Hypothesis drives the real services (contacts through the gate,
verification, promises, offers and approvals, portal signing, payments of any amount, misses and breach by
the installment judge as days pass, renegotiation, escalation and recall, disputes, complaints, closing,
the nightly aging) in random order on a few accounts, and after every step the consistency checker finds
nothing."""

import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test

from cases.models import Case, CaseStatus
from cases.services import case_transition, cases_refresh_aging, payment_record
from compliance.models import Complaint, Hold
from compliance.services import complaint_register, complaint_resolve, hold_set
from config.errors import DomainError
from negotiation.escalation import (
    DisputeOutcome,
    dispute_resolve,
    placement_approve,
    placement_propose,
    placement_recall,
    referral_approve,
    referral_propose,
    referral_withdraw,
)
from negotiation.models import Agency, LitigationReferral, Outcome, Placement
from negotiation.services import (
    ContactForbidden,
    contact_record,
    promise_record,
    verification_complete,
    verification_start,
)
from plans.agreements import agreement_sign
from plans.codes import code_send
from plans.followup import installments_judge
from plans.models import Agreement, Method, Offer, OneTimeCode, PlanKind
from plans.portal import portal_link_issue, portal_offer_accept
from plans.services import offer_approve, offer_create
from reporting.consistency import case_number, consistency_check
from tests.factories import CaseFactory, TeamFactory, UserFactory, make_national_id
from tests.plans.portal_support import zone_where_it_is_midday
from tests.plans.signing_setup import ensure_code_template, sent_code

pytestmark = pytest.mark.django_db

ACCOUNTS = 2
# Refusals are answers, not failures: the state, a guard, the gate, a role or a missing offer said no.
REFUSED = (DomainError, PermissionDenied, ContactForbidden, Case.DoesNotExist, Offer.DoesNotExist)
cases_index = st.integers(min_value=0, max_value=ACCOUNTS - 1)


class Services(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        # Each run in its own savepoint, rolled back at teardown: the runs never see each other's rows.
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        self.team = TeamFactory()
        self.collector = UserFactory(role="collector", team=self.team)
        self.supervisor = UserFactory(role="supervisor", team=self.team)
        self.team.supervisor = self.supervisor
        self.team.save()
        self.legal = UserFactory(role="legal", team=None)
        self.compliance = UserFactory(role="compliance", team=None)
        self.agency = Agency.objects.create(name=f"Agency {uuid.uuid4().hex[:6]}", licence_number=uuid.uuid4().hex)
        self.today = timezone.localdate()
        zone = zone_where_it_is_midday()
        self.cases = [
            CaseFactory(
                team=self.team,
                assigned_to=self.collector,
                account__debtor__timezone=zone,
                account__debtor__mobile=f"1381234{n:04d}",
                account__debtor__national_id=make_national_id(n + 7000),
                account__delinquent_since=self.today - timedelta(days=40 + 30 * n),
            )
            for n in range(ACCOUNTS)
        ]
        self.steps: list[str] = []

    def teardown(self) -> None:
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)

    def case(self, index: int) -> Case:
        """The account's open case, else its latest one (the nightly aging may open a new one)."""
        account_id = self.cases[index].account_id
        return Case.objects.filter(account_id=account_id).order_by("-opened_at", "-pk").first()

    def attempt(self, name: str, step) -> None:
        self.steps.append(name)
        try:
            step()
        except REFUSED as error:
            code = getattr(error, "code", type(error).__name__)
            if isinstance(error, ContactForbidden):
                code = ",".join(reason["code"] for reason in error.decision.reasons)
            self.steps[-1] += f" (refused: {code})"

    # --- Negotiation ---------------------------------------------------------------------------------

    @rule(index=cases_index, outcome=st.sampled_from([Outcome.RIGHT_PARTY_CONTACT, Outcome.NO_ANSWER,
                                                      Outcome.PROMISE_TO_PAY, Outcome.DISPUTE_RAISED]))
    def contact(self, index, outcome):
        case = self.case(index)
        self.attempt(f"contact {outcome} {case.number}", lambda: contact_record(
            case_id=case.pk, channel="phone", outcome=outcome, actor=self.collector, path="test",
        ))

    def verify(self, index, verified):
        case = self.case(index)

        def step():
            verification = verification_start(case_id=case.pk, actor=self.collector)
            verification_complete(
                verification_id=verification.pk, actor=self.collector,
                outcome="verified" if verified else "unverified", hardship_reason="income_drop",
                monthly_income=Decimal("12000.00"), essential_expenses=Decimal("4000.00"),
            )

        self.attempt(f"verify {case.number}", step)

    def promise(self, index, amount, days):
        case = self.case(index)
        self.attempt(f"promise {case.number}", lambda: promise_record(
            case_id=case.pk, amount=Decimal(amount), due_on=timezone.localdate() + timedelta(days=days),
            actor=self.collector,
        ))

    @initialize(data=st.data())
    def head_start(self, data):
        """Each account starts somewhere along the way (notify up to an agreement), reached through the services."""
        for index in range(ACCOUNTS):
            self.advance(index, data.draw(st.sampled_from([1, 2, 3])), data, data.draw(st.integers(0, 6)))

    @rule(index=cases_index, months=st.sampled_from([1, 2, 3]), data=st.data(), steps=st.integers(1, 4))
    def advance(self, index, months, data, steps):
        """The next steps of the happy path for the case's state, so that runs reach agreements and beyond."""
        for _ in range(steps):
            self.advance_one(index, months, data)

    def advance_one(self, index, months, data):
        case = self.case(index)
        if case.status == CaseStatus.NOTIFY:
            self.contact(index, Outcome.RIGHT_PARTY_CONTACT)
        elif case.status == CaseStatus.FIRST_CONTACT or (
            case.status == CaseStatus.VERIFICATION and not case.verifications.filter(outcome="verified").exists()
        ):
            self.verify(index, True)
        elif case.status == CaseStatus.VERIFICATION:
            self.offer(index, months, data.draw(st.sampled_from([0, 60])), data.draw(st.integers(1, 40)))
        elif case.status == CaseStatus.PLAN:
            if case.offers.filter(status=Offer.Status.PENDING_APPROVAL).exists():
                self.approve(index)
            else:
                self.sign(index)
        elif case.status == CaseStatus.FOLLOW_UP:
            # Pay the next installment, or let a month go by unpaid (misses, then breach).
            if data.draw(st.booleans()):
                self.pay(index, "installment", 1)
            else:
                self.days_pass(35)
        elif case.status == CaseStatus.BROKEN:
            self.renegotiate(index)

    # --- Plans -----------------------------------------------------------------------------------------

    def offer(self, index, months, waiver, first_in):
        case = self.case(index)
        self.attempt(f"offer {months}m waiver {waiver} {case.number}", lambda: offer_create(
            case_id=case.pk, actor=self.collector, kind=PlanKind.INSTALLMENTS, method=Method.ANNUITY, months=months,
            first_due_date=timezone.localdate() + timedelta(days=first_in), annual_rate=Decimal("0.06"),
            interest_waiver_pct=Decimal(waiver), fee_waiver_pct=Decimal(waiver),
            affordability_override="家人可协助还款。",
        ))

    def approve(self, index):
        case = self.case(index)
        pending = case.offers.filter(status=Offer.Status.PENDING_APPROVAL).first()
        if pending is not None:
            self.attempt(f"approve {case.number}", lambda: offer_approve(offer_id=pending.pk, actor=self.supervisor))

    def revise(self, index):
        case = self.case(index)
        self.attempt(f"revise {case.number}", lambda: case_transition(
            case_id=case.pk, name="revise", actor=self.collector,
        ))

    def sign(self, index):
        """The cardholder's side in the portal: a link, the choice, a signing code, the signature."""
        case = self.case(index)

        def step():
            link, _token = portal_link_issue(case_id=case.pk, actor=self.collector)
            offer = Offer.objects.filter(case=case, status=Offer.Status.OFFERED).latest("pk")
            portal_offer_accept(link_id=link.pk, offer_id=offer.pk)
            otp = code_send(link_id=link.pk, purpose=OneTimeCode.Purpose.SIGN)
            agreement_sign(
                offer_id=offer.pk, link_id=link.pk, signer_name=case.account.debtor.full_name, consent=True,
                code=sent_code(otp), ip="203.0.113.9", user_agent="test",
            )

        self.attempt(f"sign {case.number}", step)

    @rule(index=cases_index, kind=st.sampled_from(["any", "installment", "all"]),
          amount=st.integers(min_value=1, max_value=400000))
    def pay(self, index, kind, amount):
        case = self.case(index)
        account = case.account
        agreement = Agreement.objects.filter(case__account=account, status=Agreement.Status.IN_FORCE).first()
        value = Decimal(amount) / 100
        if kind == "installment" and agreement is not None:
            unpaid = agreement.installments.filter(paid_on__isnull=True).order_by("due_date", "number").first()
            if unpaid is not None:
                value = unpaid.amount - unpaid.paid_amount
        elif kind == "all":
            value = account.overdue_total if account.overdue_total > 0 else value
        self.attempt(f"pay {value} {case.number}", lambda: payment_record(
            account_ref=account.external_ref, amount=value, paid_at=timezone.now(), external_ref=uuid.uuid4().hex,
        ))

    @rule(days=st.sampled_from([1, 4, 20, 35, 70]))
    def days_pass(self, days):
        """Time travel for the nightly jobs: the installment judge and the aging see a later day."""
        self.today += timedelta(days=days)

        def nightly():
            installments_judge(today=self.today)
            cases_refresh_aging(today=timezone.localdate())

        self.attempt(f"{days} days pass", nightly)

    def renegotiate(self, index):
        case = self.case(index)
        self.attempt(f"renegotiate {case.number}", lambda: case_transition(
            case_id=case.pk, name="renegotiate", actor=self.collector,
        ))

    # --- Escalation, disputes, complaints, closing ----------------------------------------------------

    def escalate(self, index, litigation):
        case = self.case(index)

        def step():
            if litigation:
                referral = referral_propose(case_id=case.pk, actor=self.collector)
                referral_approve(referral_id=referral.pk, actor=self.supervisor, reason="无法协商")
            else:
                placement = placement_propose(case_id=case.pk, agency_id=self.agency.pk, actor=self.collector)
                placement_approve(placement_id=placement.pk, actor=self.supervisor, reason="失联")

        self.attempt(f"escalate {'litigation' if litigation else 'agency'} {case.number}", step)

    def recall(self, index):
        case = self.case(index)

        def step():
            for placement in Placement.objects.filter(case=case, status__in=Placement.ACTIVE):
                placement_recall(placement_id=placement.pk, actor=self.supervisor, reason="召回")
            for referral in LitigationReferral.objects.filter(case=case, status__in=LitigationReferral.ACTIVE):
                referral_withdraw(referral_id=referral.pk, actor=self.supervisor, reason="撤回")

        self.attempt(f"recall {case.number}", step)

    def return_to_negotiation(self, index):
        case = self.case(index)
        self.attempt(f"return {case.number}", lambda: case_transition(
            case_id=case.pk, name="return_to_negotiation", actor=self.supervisor, reason="持卡人愿意协商",
        ))

    def decide_dispute(self, index, upheld):
        case = self.case(index)
        outcome = DisputeOutcome.UPHELD if upheld else DisputeOutcome.REJECTED
        self.attempt(f"dispute {outcome} {case.number}", lambda: dispute_resolve(
            case_id=case.pk, outcome=outcome, reason="核实完毕", actor=self.supervisor,
        ))

    def complain(self, index, hold):
        case = self.case(index)
        self.attempt(f"complaint {case.number}", lambda: complaint_register(
            channel=Complaint.Channel.PHONE, category=Complaint.Category.CONTACT_FREQUENCY, description="电话太多",
            actor=self.compliance, case_id=case.pk, hold=hold,
        ))

    def resolve_complaint(self, index):
        case = self.case(index)
        complaint = Complaint.objects.filter(case__account=case.account).exclude(status="resolved").first()
        if complaint is not None:
            self.attempt(f"resolve complaint {case.number}", lambda: complaint_resolve(
                complaint_id=complaint.pk, actor=self.compliance, outcome="not_upheld", resolution="已核实",
            ))

    def hold(self, index, kind):
        case = self.case(index)
        self.attempt(f"hold {kind} {case.number}", lambda: hold_set(
            case_id=case.pk, kind=kind, reason="已核实", actor=self.compliance,
        ))

    def close(self, index):
        case = self.case(index)
        self.attempt(f"close {case.number}", lambda: case_transition(
            case_id=case.pk, name="close", actor=self.supervisor, reason="债务转让",
        ))

    @rule(index=cases_index, data=st.data(), what=st.sampled_from([
        "promise", "offer", "revise", "renegotiate", "escalate", "recall", "return", "dispute", "complaint",
        "resolve_complaint", "hold", "close",
    ]))
    def trouble(self, index, data, what):
        """Everything off the happy path, as one rule so that together they weigh as much as one step of it."""
        if what == "promise":
            self.promise(index, data.draw(st.integers(1, 9000)), data.draw(st.integers(0, 20)))
        elif what == "offer":
            self.offer(index, data.draw(st.sampled_from([1, 2, 6])), data.draw(st.sampled_from([0, 20, 60])),
                       data.draw(st.integers(1, 40)))
        elif what == "escalate":
            self.escalate(index, data.draw(st.booleans()))
        elif what == "dispute":
            self.decide_dispute(index, data.draw(st.booleans()))
        elif what == "complaint":
            self.complain(index, data.draw(st.booleans()))
        elif what == "hold":
            self.hold(index, data.draw(st.sampled_from([Hold.Kind.DECEASED, Hold.Kind.BANKRUPTCY])))
        else:
            getattr(self, {"return": "return_to_negotiation"}.get(what, what))(index)

    @invariant()
    def nothing_contradicts(self):
        findings = [
            f"{finding.check.code}: {', '.join(case_number(pk) for pk in finding.case_ids)}"
            for finding in consistency_check(limit=10)
            if finding.count
        ]
        accounts = [case.account_id for case in self.cases]
        states = {case.number: case.status for case in Case.objects.filter(account__in=accounts)}
        assert not findings, f"{findings} after {self.steps} (states {states})"


def test_the_services_never_leave_a_contradiction(settings_override):
    ensure_code_template()
    run_state_machine_as_test(
        Services,
        settings=settings(
            max_examples=12, stateful_step_count=20, deadline=None,
            # No shrinking: a failure prints every step it took, and shrinking these runs takes minutes.
            phases=[Phase.explicit, Phase.reuse, Phase.generate],
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )


@pytest.fixture
def settings_override(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.SMS_GATEWAY = "negotiation.gateways.FileSmsGateway"
    settings.SMS_FILE_DIR = str(tmp_path / "sms")
    settings.PLAN_AFFORDABILITY = "override"
    return settings
