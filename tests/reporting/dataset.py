"""A small portfolio with known answers, for the snapshot and KPI tests (DAY is a month end).

Team A (supervisor "supervisor", collectors a1 and a2) and team B (collector b1). At the end of DAY:
c1 (A, a1, early, ¥1,000, special mention), c2 (A, a2, mid, ¥5,000, doubtful) and c3 (B, b1, early, ¥2,000,
special mention) are open; c4 (A, a1, early) was resolved on 20 September after paying ¥3,000."""

from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.utils import timezone

from cases.models import Case, Payment
from compliance.models import Complaint, ContactDecision, ContactPolicy, ScreeningHit
from negotiation.models import Contact, Promise
from plans.models import Agreement, Offer, OneTimeCode, PortalLink, SurveyResponse
from reporting.models import PortfolioTotal
from tests.factories import CardAccountFactory, CaseFactory, TeamFactory, UserFactory

DAY = date(2026, 9, 30)
MONTH_START = date(2026, 9, 1)


def at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=timezone.get_current_timezone())


def _case(
    *,
    team,
    collector,
    classification,
    opened: date,
    delinquent_since,
    overdue: str,
    status="notify",
    closed: date | None = None,
) -> Case:
    account = CardAccountFactory(
        principal_overdue=Decimal(overdue),
        interest_overdue=Decimal("0"),
        fees_overdue=Decimal("0"),
        delinquent_since=delinquent_since,
    )
    case = CaseFactory(team=team, assigned_to=collector, account=account, classification=classification)
    Case.objects.filter(pk=case.pk).update(
        status=status, opened_at=at(opened, 9), closed_at=at(closed, 18) if closed else None
    )
    case.refresh_from_db()
    return case


def _pay(case: Case, amount: str, day: date) -> None:
    Payment.objects.create(
        account=case.account,
        external_ref=f"P{case.pk}-{day:%m%d}",
        amount=Decimal(amount),
        paid_at=at(day, 11),
        to_principal=Decimal(amount),
        days_past_due=10,
    )


def _contact(case, collector, outcome, day):
    Contact.objects.create(case=case, channel="phone", outcome=outcome, at=at(day), recorded_by=collector)


def _promise(case, collector, status, made: date, judged: date):
    Promise.objects.create(
        case=case,
        amount=Decimal("100.00"),
        due_on=judged - timedelta(days=2),
        status=status,
        judged_at=at(judged),
        created_by=collector,
        created_at=at(made),
    )


def _offer(case, collector, *, offered: date | None, accepted: date | None = None, status="offered") -> Offer:
    return Offer.objects.create(
        case=case,
        months=6,
        first_due_date=DAY,
        principal=Decimal("1000"),
        interest=Decimal("0"),
        fees=Decimal("0"),
        financed_amount=Decimal("1000"),
        total_payable=Decimal("1000"),
        total_waived=Decimal("0"),
        largest_installment=Decimal("170"),
        status=status,
        created_by=collector,
        offered_at=at(offered) if offered else None,
        accepted_at=at(accepted) if accepted else None,
    )


def _agreement(case, offer, number, *, signed: datetime, status="in_force", ended: date | None = None):
    link = PortalLink.objects.create(case=case, token_hash=f"hash-{number}", channel="sms", expires_at=signed)
    code = OneTimeCode.objects.create(link=link, purpose="sign", code_hash="x", expires_at=signed)
    return Agreement.objects.create(
        case=case,
        offer=offer,
        number=number,
        pdf="private/agreements/x.pdf",
        sha256="0" * 64,
        signer_name="持卡人",
        signed_at=signed,
        code=code,
        status=status,
        ended_at=at(ended) if ended else None,
    )


def build():
    """The portfolio; returns a namespace of its teams, people and cases."""
    team_a, team_b = TeamFactory(name="Team A"), TeamFactory(name="Team B")
    supervisor = UserFactory(username="supervisor", role="supervisor", team=team_a)
    team_a.supervisor = supervisor
    team_a.save()
    a1 = UserFactory(username="a1", first_name="Alice", last_name="", role="collector", team=team_a)
    a2 = UserFactory(username="a2", first_name="Arthur", last_name="", role="collector", team=team_a)
    b1 = UserFactory(username="b1", first_name="Bella", last_name="", role="collector", team=team_b)

    c1 = _case(
        team=team_a,
        collector=a1,
        classification="early",
        opened=date(2026, 8, 1),
        delinquent_since=date(2026, 9, 20),
        overdue="1000",
    )
    c2 = _case(
        team=team_a,
        collector=a2,
        classification="mid",
        opened=date(2026, 7, 1),
        delinquent_since=date(2026, 5, 15),
        overdue="5000",
    )
    c3 = _case(
        team=team_b,
        collector=b1,
        classification="early",
        opened=date(2026, 9, 10),
        delinquent_since=date(2026, 9, 1),
        overdue="2000",
    )
    c4 = _case(
        team=team_a,
        collector=a1,
        classification="early",
        opened=date(2026, 8, 5),
        delinquent_since=date(2026, 8, 1),
        overdue="0",
        status="resolved",
        closed=date(2026, 9, 20),
    )
    _pay(c1, "500", date(2026, 9, 25))
    _pay(c4, "3000", date(2026, 9, 20))

    for outcome, day in (("right_party_contact", 3), ("no_answer", 4), ("promise_to_pay", 5), ("no_answer", 6)):
        _contact(c1, a1, outcome, date(2026, 9, day))
    _contact(c3, b1, "no_answer", date(2026, 9, 12))
    _contact(c3, b1, "refused", date(2026, 9, 13))
    _contact(c1, a1, "no_answer", date(2026, 8, 31))  # before the period

    _promise(c1, a1, Promise.Status.KEPT, date(2026, 9, 5), date(2026, 9, 25))
    _promise(c1, a1, Promise.Status.BROKEN, date(2026, 9, 6), date(2026, 9, 28))
    _promise(c2, a2, Promise.Status.PARTIALLY_KEPT, date(2026, 8, 20), date(2026, 9, 15))

    _offer(c2, a2, offered=date(2026, 9, 8))
    signed_offer = _offer(c2, a2, offered=date(2026, 9, 9), accepted=date(2026, 9, 10), status="signed")
    _agreement(c2, signed_offer, "AG-2", signed=at(date(2026, 9, 12), 9))  # 73 days after c2 opened
    _agreement(
        c1,
        _offer(c1, a1, offered=None, status="signed"),
        "AG-1",
        signed=at(date(2026, 8, 20)),
        status="breached",
        ended=date(2026, 9, 18),
    )
    completed = _agreement(
        c4,
        _offer(c4, a1, offered=None, status="signed"),
        "AG-4",
        signed=at(date(2026, 8, 10)),
        status="completed",
        ended=date(2026, 9, 20),
    )
    SurveyResponse.objects.create(agreement=completed, case=c4, score=4, at=at(date(2026, 9, 21)))

    Complaint.objects.create(
        case=c1,
        channel="phone",
        category="contact_frequency",
        description="too many calls",
        received_at=at(date(2026, 9, 5)),
        due_at=at(date(2026, 9, 20)),
        registered_by=supervisor,
    )
    decision = ContactDecision.objects.create(
        case=c1,
        channel="phone",
        party="debtor",
        purpose="collection",
        at=at(date(2026, 9, 7)),
        allowed=False,
        reason_codes=["outside_contact_hours"],
        policy=ContactPolicy.objects.get(jurisdiction="CN"),
        asked_by=a1,
        path="web",
    )
    ContactDecision.objects.filter(pk=decision.pk).update(created_at=at(date(2026, 9, 7)))
    hit = ScreeningHit.objects.create(
        source="note", action="blocked", case=c3, author=b1, terms=["x"], categories=["threat"], excerpt="x"
    )
    ScreeningHit.objects.filter(pk=hit.pk).update(created_at=at(date(2026, 9, 13)))
    PortfolioTotal.objects.create(date=DAY, accounts=100, balance=Decimal("80000.00"))

    class Portfolio:
        pass

    portfolio = Portfolio()
    portfolio.__dict__.update(
        team_a=team_a, team_b=team_b, supervisor=supervisor, a1=a1, a2=a2, b1=b1, c1=c1, c2=c2, c3=c3, c4=c4
    )
    return portfolio
