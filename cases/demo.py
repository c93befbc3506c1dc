"""The demo portfolio behind `manage.py seed_demo`: staff, assignment rules, a few hundred cardholders
and a history made through the real services, so that audit, transitions and classes are genuine."""

import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from accounts.models import Role, Team, User
from cases import services
from cases.identity import national_id_check_char
from cases.models import (
    DEFAULT_TIMEZONE,
    AssignmentRule,
    Bucket,
    CardAccount,
    Case,
    CaseEvidence,
    CaseStatus,
    Classification,
    ContactPerson,
    Debtor,
    Jurisdiction,
    Payment,
)
from compliance import audit

# Published on purpose (printed by `make run`); only ever set when settings.DEMO_MODE is true.
DEMO_PASSWORD = "accord-demo-2026"  # noqa: S105
DEMO_SEED = 2026
DEMO_SIZE = 300
REF_PREFIX = "DEMO"
MARKER_REF = f"{REF_PREFIX}000000001"

EAST, SOUTH = "华东一组", "华南二组"


@dataclass(frozen=True)
class StaffMember:
    username: str
    role: str
    name: str
    team: str | None = None


STAFF = (
    StaffMember("supervisor", Role.SUPERVISOR, "周建华", EAST),
    StaffMember("collector", Role.COLLECTOR, "王芳", EAST),
    StaffMember("collector2", Role.COLLECTOR, "李伟", EAST),
    StaffMember("collector3", Role.COLLECTOR, "张敏", EAST),
    StaffMember("supervisor2", Role.SUPERVISOR, "梁晓东", SOUTH),
    StaffMember("collector4", Role.COLLECTOR, "陈静", SOUTH),
    StaffMember("collector5", Role.COLLECTOR, "刘洋", SOUTH),
    StaffMember("collector6", Role.COLLECTOR, "黄婷", SOUTH),
    StaffMember("legal", Role.LEGAL, "赵明远"),
    StaffMember("compliance", Role.COMPLIANCE, "孙丽"),
    StaffMember("admin", Role.ADMIN, "系统管理员"),
)

# (position, class, city, team): cities to the team that covers them, then mid cases elsewhere to the
# south team, then a catch-all so that no new case is left without a team.
ASSIGNMENT_RULES = (
    (10, "", "上海", EAST),
    (20, "", "杭州", EAST),
    (30, "", "南京", EAST),
    (40, "", "广州", SOUTH),
    (50, "", "深圳", SOUTH),
    (60, Classification.MID, "", SOUTH),
    (1000, "", "", EAST),
)

# City, weight, the area code its identity numbers start with.
CITIES = (
    ("上海", 16, "310101"),
    ("北京", 14, "110101"),
    ("杭州", 10, "330102"),
    ("南京", 9, "320102"),
    ("广州", 12, "440103"),
    ("深圳", 13, "440303"),
    ("成都", 10, "510104"),
    ("武汉", 8, "420102"),
    ("西安", 8, "610102"),
)
# The first twenty are by far the most common surnames, and are drawn more often.
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
    "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
MALE_CHARS = "伟强磊军勇杰涛斌超明刚平辉鹏华飞鑫波宇浩凯健俊帆旭宁龙林阳建国志文东海峰亮晨昊博然"
FEMALE_CHARS = "芳娜敏静丽艳娟霞秀玲英燕萍红婷雪琳慧莹倩颖洁晶佳梅兰琴云璐瑶怡欣悦彤薇蕾"
# Mainland mobile numbers: 11 digits, these operator prefixes, then nine digits.
MOBILE_PREFIXES = ("13", "15", "17", "18", "19")
US_DEBTORS = (
    ("Michael Chen", "New York", "212"),
    ("Jennifer Wang", "New York", "646"),
    ("David Li", "Boston", "617"),
    ("Emily Zhang", "New York", "917"),
    ("Kevin Liu", "Philadelphia", "215"),
    ("Sarah Huang", "Boston", "857"),
)
US_EVERY = DEMO_SIZE // len(US_DEBTORS)

# Days past due: (from, to, weight). Every regulatory bucket and both early and mid occur.
DPD_BANDS = ((1, 30, 30), (31, 90, 25), (91, 120, 12), (121, 180, 13), (181, 540, 20))
CREDIT_LIMITS = (5000, 10000, 20000, 30000, 50000, 80000, 100000, 150000, 200000, 300000)

ESCALATE_REASONS = (
    "多次协商无果，且逾期超过 180 天，转法务评估律师函",
    "持卡人明确拒绝还款，申请上门催收",
    "失联超过 60 天，建议委外催收",
    "逾期金额较大且无还款计划，转法务评估诉讼",
)
CLOSE_REASONS = (
    "持卡人已身故，经核实转核销处理",
    "经核实为盗刷，账户转反欺诈部门处理",
    "债务已整体转让，停止催收",
)


@dataclass(frozen=True)
class Escalation:
    """A demo case to escalate. Cases never import negotiation, so `seed_demo` escalates them through an
    agency placement or a litigation referral (`negotiation.demo.escalations_seed`)."""

    case_id: int
    reason: str
    litigation: bool = False
    returned: str = ""  # a reason to bring it back to negotiation afterwards


@dataclass
class SeedResult:
    created: bool
    logins: list[tuple[str, str, str, str]]
    refused: Counter = field(default_factory=Counter)
    escalations: list[Escalation] = field(default_factory=list)


def demo_present() -> bool:
    return CardAccount.objects.filter(external_ref=MARKER_REF).exists()


def demo_seed(*, demo_mode: bool, seed: int = DEMO_SEED, today: date | None = None) -> SeedResult:
    """Build the demo portfolio once; later runs change nothing and only report the logins.

    Staff get the published demo password only in demo mode; otherwise their passwords are unusable."""
    today = today or timezone.localdate()
    if demo_present():
        if demo_mode:
            _give_demo_password_to_staff_without_one()
        return SeedResult(created=False, logins=demo_logins(demo_mode=demo_mode))
    with transaction.atomic():
        staff = _staff_ensure(password=DEMO_PASSWORD if demo_mode else None)
        _assignment_rules_ensure()
        account_ids = _portfolio_build(rng=random.Random(seed), today=today)
        audit.record(action="demo.seed", changes={"accounts": len(account_ids), "staff": sorted(staff)})
        services.cases_open_for_accounts(account_ids=account_ids, today=today)
        history = _History(rng=random.Random(seed + 1), today=today, staff=staff)
        refused = history.build()
        services.cases_refresh_aging(today=today)
    return SeedResult(
        created=True,
        logins=demo_logins(demo_mode=demo_mode, known_demo=demo_mode),
        refused=refused,
        escalations=history.escalations,
    )


# --- Staff -----------------------------------------------------------------------------------------


def _staff_ensure(*, password: str | None) -> dict[str, User]:
    teams = {name: Team.objects.get_or_create(name=name)[0] for name in (EAST, SOUTH)}
    # One hash for every demo user: hashing is deliberately slow, and the password is public anyway.
    hashed = make_password(password)
    users = {}
    for member in STAFF:
        user = User.objects.filter(username=member.username).first()
        if user is None:
            user = User(
                username=member.username,
                first_name=member.name,
                email=f"{member.username}@accord.example",
                role=member.role,
                team=teams[member.team] if member.team else None,
                is_superuser=member.role == Role.ADMIN,
                password=hashed,
            )
            user.save()
        users[member.username] = user
        if member.role == Role.SUPERVISOR and teams[member.team].supervisor_id is None:
            teams[member.team].supervisor = user
            teams[member.team].save(update_fields=["supervisor"])
    return users


def _give_demo_password_to_staff_without_one() -> None:
    """Staff created outside demo mode have unusable passwords; demo mode makes them usable."""
    locked = [u for u in User.objects.filter(username__in=[m.username for m in STAFF]) if not u.has_usable_password()]
    if locked:
        hashed = make_password(DEMO_PASSWORD)
        for user in locked:
            user.password = hashed
            user.save(update_fields=["password"])


def demo_logins(*, demo_mode: bool, known_demo: bool = False) -> list[tuple[str, str, str, str]]:
    """(username, role, team, password) of each demo user; the password only where it still is the demo one
    (`known_demo`: they were just created with it, no need to check)."""
    verified: dict[str, bool] = {}
    rows = []
    for user in User.objects.filter(username__in=[m.username for m in STAFF]).select_related("team"):
        if known_demo:
            verified[user.password] = True
        elif user.password not in verified:
            verified[user.password] = demo_mode and user.check_password(DEMO_PASSWORD)
        password = DEMO_PASSWORD if verified[user.password] else "—"
        rows.append((user.username, user.role, user.team.name if user.team else "", password))
    order = {m.username: i for i, m in enumerate(STAFF)}
    return sorted(rows, key=lambda row: order[row[0]])


def _assignment_rules_ensure() -> None:
    teams = {team.name: team for team in Team.objects.filter(name__in=(EAST, SOUTH))}
    for position, classification, city, team in ASSIGNMENT_RULES:
        AssignmentRule.objects.get_or_create(
            position=position, classification=classification, city=city, team=teams[team]
        )


# --- Cardholders and accounts ----------------------------------------------------------------------


def _cents(amount: int) -> Decimal:
    return (Decimal(amount) / 100).quantize(Decimal("0.01"))


class _People:
    """Made-up but plausible people: names, identity numbers with a valid check digit, mobiles."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.ids: set[str] = set()
        self.mobiles: set[str] = set()
        self.city_names = [c[0] for c in CITIES]
        self.city_weights = [c[1] for c in CITIES]
        self.area = {c[0]: c[2] for c in CITIES}

    def name(self, male: bool) -> str:
        chars = MALE_CHARS if male else FEMALE_CHARS
        given = "".join(self.rng.choice(chars) for _ in range(self.rng.choice((1, 2, 2))))
        surnames = SURNAMES[:20] if self.rng.random() < 0.5 else SURNAMES
        return self.rng.choice(surnames) + given

    def city(self) -> str:
        return self.rng.choices(self.city_names, self.city_weights)[0]

    def national_id(self, city: str, male: bool, today: date) -> str:
        while True:
            born = date(today.year - self.rng.randint(23, 60), self.rng.randint(1, 12), self.rng.randint(1, 28))
            sequence = self.rng.randint(0, 99) * 10 + self.rng.choice((1, 3, 5, 7, 9) if male else (0, 2, 4, 6, 8))
            first17 = f"{self.area[city]}{born:%Y%m%d}{sequence:03d}"
            value = first17 + national_id_check_char(first17)
            if value not in self.ids:
                self.ids.add(value)
                return value

    def mobile(self) -> str:
        while True:
            value = self.rng.choice(MOBILE_PREFIXES) + f"{self.rng.randint(0, 999_999_999):09d}"
            if value not in self.mobiles:
                self.mobiles.add(value)
                return value


def _amounts(rng: random.Random, days: int) -> tuple[Decimal, Decimal, Decimal, Decimal]:
    """(principal, interest, fees, credit limit) in yuan: small debts among the recent, some large ones."""
    if days <= 30 and rng.random() < 0.65:
        low, high = 300, 9_800
    else:
        low, high = rng.choices(((2_000, 20_000), (20_000, 80_000), (80_000, 220_000)), (50, 35, 15))[0]
    total = rng.randint(low * 100, high * 100)
    fees = min(rng.choice((0, 0, 0, 5_000, 10_000, 20_000, 30_000)), total // 10)
    interest = total * rng.randint(2, 6 + min(days, 360) // 30) // 100
    principal = total - interest - fees
    limit = next(v for v in CREDIT_LIMITS if v * 100 >= principal)
    if rng.random() < 0.3 and limit != CREDIT_LIMITS[-1]:
        limit = CREDIT_LIMITS[CREDIT_LIMITS.index(limit) + 1]
    return _cents(principal), _cents(interest), _cents(fees), Decimal(limit).quantize(Decimal("0.01"))


def _portfolio_build(*, rng: random.Random, today: date) -> list[int]:
    """Bulk-create the cardholders, their contact persons and card accounts; returns the account ids."""
    people = _People(rng)
    debtors, accounts, contacts = [], [], []
    for n in range(1, DEMO_SIZE + 1):
        ref = f"{REF_PREFIX}{n:09d}"
        low, high, _weight = rng.choices(DPD_BANDS, [b[2] for b in DPD_BANDS])[0]
        days = rng.randint(low, high)
        delinquent_since = today - timedelta(days=days)
        if n % US_EVERY == US_EVERY // 2:
            name, city, area = US_DEBTORS[n // US_EVERY % len(US_DEBTORS)]
            debtor = Debtor(
                key=f"acct:{ref}",
                full_name=name,
                mobile=f"+1{area}555{rng.randint(100, 199):04d}",
                email=f"{name.lower().replace(' ', '.')}@example.com",
                city=city,
                jurisdiction=Jurisdiction.US,
                timezone=DEFAULT_TIMEZONE[Jurisdiction.US],
                preferred_language="en",
            )
        else:
            male = rng.random() < 0.55
            city = people.city()
            national_id = people.national_id(city, male, today)
            debtor = Debtor(
                key=national_id,
                full_name=people.name(male),
                national_id=national_id,
                mobile=people.mobile(),
                email=f"demo{n:03d}@example.com" if rng.random() < 0.5 else "",
                city=city,
                jurisdiction=Jurisdiction.CN,
                timezone=DEFAULT_TIMEZONE[Jurisdiction.CN],
            )
            roll = rng.random()
            if roll < 0.05:
                contacts.append((debtor.key, ContactPerson.Relation.GUARANTOR))
            elif roll < 0.12:
                contacts.append(
                    (debtor.key, rng.choice((ContactPerson.Relation.SPOUSE, ContactPerson.Relation.RELATIVE)))
                )
        principal, interest, fees, limit = _amounts(rng, days)
        last_payment = delinquent_since - timedelta(days=rng.randint(5, 45)) if rng.random() < 0.45 else None
        debtors.append(debtor)
        accounts.append(
            CardAccount(
                debtor=debtor,
                external_ref=ref,
                card_last4=f"{rng.randint(0, 9999):04d}",
                credit_limit=limit,
                principal_overdue=principal,
                interest_overdue=interest,
                fees_overdue=fees,
                delinquent_since=delinquent_since,
                last_payment_on=last_payment,
            )
        )
    Debtor.objects.bulk_create(debtors)
    by_key = dict(Debtor.objects.filter(key__in=[d.key for d in debtors]).values_list("key", "pk"))
    for account in accounts:
        account.debtor_id = by_key[account.debtor.key]
    CardAccount.objects.bulk_create(accounts)
    ContactPerson.objects.bulk_create(
        ContactPerson(
            debtor_id=by_key[key],
            name=people.name(rng.random() < 0.5),
            mobile=people.mobile(),
            relation=relation,
        )
        for key, relation in contacts
    )
    return list(
        CardAccount.objects.filter(external_ref__startswith=REF_PREFIX)
        .order_by("external_ref")
        .values_list("pk", flat=True)
    )


# --- History through the services ------------------------------------------------------------------


class _History:
    """Moves the freshly opened cases through states, payments and wilful evidence as people would."""

    def __init__(self, *, rng: random.Random, today: date, staff: dict[str, User]) -> None:
        self.rng = rng
        self.today = today
        self.refused: Counter = Counter()
        self.supervisors = {team.pk: team.supervisor for team in Team.objects.filter(name__in=(EAST, SOUTH))}
        self.fallback_collector = staff["collector"]
        self.fallback_supervisor = staff["supervisor"]
        self.cases = list(
            Case.objects.filter(account__external_ref__startswith=REF_PREFIX, status__in=Case.OPEN_STATES)
            .select_related("account", "assigned_to")
            .order_by("account__external_ref")
        )
        self.payment_seq = 0
        self.escalations: list[Escalation] = []

    def build(self) -> Counter:
        cases = self.cases[:]
        self.rng.shuffle(cases)
        old_unpaid = [c for c in cases if c.account.days_past_due(self.today) > 150]
        taken = set()

        def pick(pool, count):
            chosen = [c for c in pool if c.pk not in taken][:count]
            taken.update(c.pk for c in chosen)
            return chosen

        demands = pick(old_unpaid, 5)
        promises = pick(cases, 3)
        one_promise = pick(cases, 5)
        evasions = pick(cases, 1)
        escalate = pick([c for c in cases if c.account.days_past_due(self.today) > 90], 8)
        close = pick(cases, 3)
        paid_full = pick(cases, 3)
        follow_up = pick(cases, 7)
        signed = pick(cases, 3)
        plan = pick(cases, 22)
        verification = pick(cases, 40)
        first_contact = pick(cases, 70)
        partial = [c for c in cases if c not in demands][::5]

        for case in first_contact:
            self.advance(case, ["record_first_contact"])
        for case in verification + one_promise + promises:
            self.advance(case, ["record_first_contact", "start_verification"])
        for case in plan:
            self.advance(case, ["record_first_contact", "start_verification", "propose_plan"])
        # Agreements are signed only by signing (plans.demo signs some of these in the portal), never by a step.
        for case in signed + follow_up:
            self.advance(case, ["record_first_contact", "start_verification", "propose_plan"])
        for case in demands + evasions:
            self.advance(case, ["record_first_contact"])

        for case in partial:
            self.pay(case, share=Decimal(self.rng.choice((5, 10, 15, 20, 30))) / 100)
        for case in paid_full + follow_up[-1:]:
            self.pay(case, share=None)

        for case in demands:
            self.evidence(case, CaseEvidence.Kind.DELIVERED_DEMAND, 75, "催收函已签收（EMS）", "letter")
            self.evidence(case, CaseEvidence.Kind.DELIVERED_DEMAND, 38, "第二次催收函已签收（EMS）", "letter")
        for case in promises:
            self.evidence(case, CaseEvidence.Kind.BROKEN_PROMISE, 52, "承诺 15 日前还款 2,000 元，未履行", "promise")
            self.evidence(case, CaseEvidence.Kind.BROKEN_PROMISE, 21, "再次承诺月底前还款，未履行", "promise")
        for case in one_promise:
            self.evidence(case, CaseEvidence.Kind.BROKEN_PROMISE, 12, "承诺本周内还款，未履行", "promise")
        for case in evasions:
            for days_ago in (40, 26, 9):
                self.evidence(case, CaseEvidence.Kind.EVASION, days_ago, "接通后自称非本人并挂断", "call")

        # The first case whose demands the (editable) policy took as a wilful suggestion is confirmed.
        suggested = set(
            Case.objects.filter(pk__in=[c.pk for c in demands], wilful_suggested=True).values_list("pk", flat=True)
        )
        wilful = next((c for c in demands if c.pk in suggested), None)
        if wilful is not None:
            services.case_confirm_wilful(
                case_id=wilful.pk,
                actor=self.supervisor(wilful),
                reason="两次送达催收函均签收，逾期超过 150 天仍无任何还款，确认为恶意逾期",
            )
            self.escalations.append(Escalation(wilful.pk, "已确认恶意逾期，转法务发送律师函", litigation=True))
        for index, case in enumerate(escalate):
            # Some were never reached at all: escalated straight from the notice.
            self.advance(case, [] if index % 4 == 3 else ["record_first_contact"])
            reason = ESCALATE_REASONS[index % len(ESCALATE_REASONS)]
            self.escalations.append(
                Escalation(
                    case.pk,
                    reason,
                    litigation="诉讼" in reason,
                    returned="持卡人主动来电，愿意协商分期，退回协商" if index == 0 else "",
                )
            )
        for index, case in enumerate(close):
            self.advance(case, ["record_first_contact"] if index else [])
            self.advance(case, ["close"], reason=CLOSE_REASONS[index % len(CLOSE_REASONS)])
        return self.refused

    def supervisor(self, case: Case) -> User:
        return self.supervisors.get(case.team_id) or self.fallback_supervisor

    def advance(self, case: Case, steps: list[str], reason: str = "") -> None:
        """Take the steps in order with the assigned collector (supervisor steps by the supervisor);
        stop at the first one a guard refuses."""
        for name in steps:
            supervisor_step = name in Case.REASON_REQUIRED
            actor = self.supervisor(case) if supervisor_step else case.assigned_to or self.fallback_collector
            try:
                services.case_transition(case_id=case.pk, name=name, actor=actor, reason=reason)
            except services.TransitionRefused:
                self.refused[name] += 1
                return

    def pay(self, case: Case, share: Decimal | None) -> None:
        account = CardAccount.objects.get(pk=case.account_id)
        days = account.days_past_due(self.today)
        owed = account.principal_overdue + account.interest_overdue + account.fees_overdue
        amount = owed if share is None else max(Decimal("100.00"), (owed * share).quantize(Decimal("1")))
        if amount > owed:
            amount = owed
        # Paid after the account fell due, at most 25 days ago, and never later than now.
        paid_on = self.today - timedelta(days=self.rng.randint(1, min(days - 1, 25))) if days > 1 else self.today
        self.payment_seq += 1
        paid_at = timezone.make_aware(datetime.combine(paid_on, time(9, 0)) + timedelta(minutes=self.payment_seq))
        services.payment_record(
            account_ref=account.external_ref,
            amount=amount.quantize(Decimal("0.01")),
            paid_at=min(paid_at, timezone.now() - timedelta(minutes=1)),
            external_ref=f"DEMO-PAY-{self.payment_seq:05d}",
        )

    def evidence(self, case: Case, kind: str, days_ago: int, detail: str, source: str) -> None:
        services.case_evidence_record(
            case_id=case.pk,
            kind=kind,
            occurred_on=self.today - timedelta(days=days_ago),
            actor=case.assigned_to,
            detail=detail,
            source_ref=f"demo-{source}:{case.pk}:{days_ago}",
        )


# --- Summary ---------------------------------------------------------------------------------------


def demo_counts() -> dict:
    cases = Case.objects.filter(account__external_ref__startswith=REF_PREFIX)
    open_cases = cases.filter(status__in=Case.OPEN_STATES)
    return {
        "debtors": Debtor.objects.filter(accounts__external_ref__startswith=REF_PREFIX).distinct().count(),
        "accounts": CardAccount.objects.filter(external_ref__startswith=REF_PREFIX).count(),
        "contact_persons": ContactPerson.objects.filter(debtor__accounts__external_ref__startswith=REF_PREFIX)
        .distinct()
        .count(),
        "payments": Payment.objects.filter(account__external_ref__startswith=REF_PREFIX).count(),
        "evidence": CaseEvidence.objects.filter(case__in=cases).count(),
        "cases": cases.count(),
        "by_state": _count(cases, "status", CaseStatus.values),
        "by_class": _count(open_cases, "classification", Classification.values),
        "by_bucket": _count(open_cases, "bucket", Bucket.values),
        "wilful_suggested": open_cases.filter(wilful_suggested=True).count(),
    }


def _count(queryset, field_name: str, order: list[str]) -> dict[str, int]:
    """Rows per value of `field_name`, in the order of `order`, leaving out values with none."""
    found = dict(queryset.order_by().values_list(field_name).annotate(n=Count("pk")))
    return {key: found[key] for key in order if key in found}
