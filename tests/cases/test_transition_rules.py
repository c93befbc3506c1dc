"""Who or what may take each transition, on which facts: one table, the README's, walked over every
transition × role × state × fact. Each combination is tried through the service (inside a savepoint that is
rolled back) and compared with what the table says, and what each role is offered is compared as well."""

from datetime import date
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from cases.models import Case
from cases.services import TransitionRefused, case_transition, case_transition_by_system, transitions_for
from plans.models import Agreement, Installment
from tests.factories import UserFactory, case_in, verified
from tests.plans.followup_setup import agreement_in_force

PEOPLE = ("collector", "supervisor", "admin")
SUPERVISORS = ("supervisor", "admin")
ROLES = ("collector", "supervisor", "legal", "compliance", "admin", "system")

# (transition, who or what, facts required, reason required): the README's table, row for row.
TABLE = (
    ("record_first_contact", PEOPLE, (), False),
    ("start_verification", PEOPLE, (), False),
    ("propose_plan", PEOPLE, ("verified",), False),
    ("revise", PEOPLE, (), False),
    ("sign_agreement", ("system",), ("agreement_in_force",), False),
    ("start_follow_up", ("system",), ("agreement_in_force",), False),
    ("complete", ("system",), ("all_installments_paid",), False),
    ("breach", ("system",), ("installment_missed", "misses_reach_breach"), False),
    ("breach", SUPERVISORS, ("installment_missed",), True),
    ("renegotiate", PEOPLE, (), False),
    ("escalate", SUPERVISORS, (), True),
    ("return_to_negotiation", SUPERVISORS, (), True),
    ("return_to_negotiation", ("system",), (), False),
    ("close", SUPERVISORS, ("no_agreement_in_force",), True),
    ("settle", ("system",), ("nothing_overdue", "no_agreement_in_force"), False),
)

# The situations a case is built in, and the facts that hold in each.
SITUATIONS = {
    "nothing": {"no_agreement_in_force"},
    "verified": {"verified", "no_agreement_in_force"},
    "paid_off": {"nothing_overdue", "no_agreement_in_force"},
    "agreement_kept": {"agreement_in_force"},
    "one_missed": {"agreement_in_force", "installment_missed"},
    "misses_to_breach": {"agreement_in_force", "installment_missed", "misses_reach_breach"},
    "all_paid": {"all_installments_paid", "no_agreement_in_force"},
}

# The graph (the transitions' source states); the model must agree, see the last test.
SOURCES = {
    "record_first_contact": ("notify",),
    "start_verification": ("first_contact",),
    "propose_plan": ("verification",),
    "revise": ("plan",),
    "sign_agreement": ("plan",),
    "start_follow_up": ("signed_agreement",),
    "complete": ("follow_up",),
    "breach": ("follow_up",),
    "renegotiate": ("broken",),
    "escalate": ("notify", "first_contact", "verification", "plan", "broken"),
    "return_to_negotiation": ("escalated",),
    "close": (
        "notify", "first_contact", "verification", "plan", "signed_agreement", "follow_up", "broken", "escalated",
    ),
    "settle": (
        "notify", "first_contact", "verification", "plan", "signed_agreement", "follow_up", "broken", "escalated",
    ),
}
STATES = (
    "notify", "first_contact", "verification", "plan", "signed_agreement", "follow_up", "broken", "escalated",
    "resolved", "closed",
)
REASON = "Recorded for the rule walk."
OK, STATE, GUARD, ROLE = "ok", "409 state", "409 guard", "403"


def readme_row(name: str, who: tuple[str, ...], facts: tuple[str, ...], reason: bool) -> str:
    shown = ", ".join(f"`{fact}`" for fact in facts) or "—"
    return f"| `{name}` | {', '.join(who)} | {shown} | {'yes' if reason else '—'} |"


def _rows(name: str) -> list[tuple]:
    return [row for row in TABLE if row[0] == name]


def _conditions(name: str) -> set[str]:
    """What the transition's own conditions check: the facts every row of it needs."""
    return set.intersection(*(set(row[2]) for row in _rows(name)))


def expected(name: str, role: str, state: str, situation: str) -> str:
    """What the table says happens when `role` asks for `name` on a case in `state` with `situation`'s facts."""
    facts = SITUATIONS[situation]
    if role == "system":
        row = next((row for row in _rows(name) if "system" in row[1]), None)
        if row is None:
            return ROLE
        if state not in SOURCES[name]:
            return STATE
        return OK if set(row[2]) <= facts else GUARD
    if state not in SOURCES[name]:
        return STATE
    if not _conditions(name) <= facts:
        return GUARD
    row = next((row for row in _rows(name) if role in row[1]), None)
    if row is None:
        return ROLE
    return OK if set(row[2]) <= facts else GUARD


def expected_offer(role: str, state: str, situation: str) -> set[str]:
    return {name for name in SOURCES if expected(name, role, state, situation) == OK}


class _RolledBack(Exception):
    pass


def attempt(take) -> str:
    """Take a transition and undo it: what happened, in the table's words."""
    try:
        with transaction.atomic():
            take()
            raise _RolledBack
    except _RolledBack:
        return OK
    except TransitionRefused as refused:
        return STATE if refused.details[0]["code"] == "state" else GUARD
    except PermissionDenied:
        return ROLE


def _installments(agreement: Agreement, *, missed: int = 0, paid: bool = False) -> None:
    rows = list(agreement.installments.order_by("number"))
    for installment in rows[:missed]:
        installment.status = Installment.Status.MISSED
    for installment in rows if paid else ():
        installment.paid_amount, installment.status = installment.amount, Installment.Status.PAID
    Installment.objects.bulk_update(rows, ["status", "paid_amount"])
    if missed:
        Agreement.objects.filter(pk=agreement.pk).update(missed_count=missed)
    if paid:
        Agreement.objects.filter(pk=agreement.pk).update(status=Agreement.Status.COMPLETED)


def build(state: str, situation: str, team, collector) -> Case:
    """A case in `state` whose recorded facts are exactly `situation`'s."""
    account = {}
    if situation == "paid_off":
        account = {"account__principal_overdue": 0, "account__interest_overdue": 0, "account__fees_overdue": 0,
                   "account__delinquent_since": None}
    # An ended case takes no hold, so the facts of an agreement are recorded while it is open; the state is then
    # written directly, for the walk to see what every transition does on such a (contradictory) record too.
    ended = state in ("resolved", "closed")
    case = case_in("follow_up" if ended else state, team=team, assigned_to=collector, **account)
    if situation == "verified":
        verified(case)
    if situation in ("agreement_kept", "one_missed", "misses_to_breach", "all_paid"):
        agreement = agreement_in_force(case, ["1000.00", "1000.00", "1000.00"], date(2027, 1, 15))
        _installments(
            agreement,
            missed={"one_missed": 1, "misses_to_breach": settings.INSTALLMENT_MISSES_TO_BREACH}.get(situation, 0),
            paid=situation == "all_paid",
        )
    if ended:
        Case.objects.filter(pk=case.pk).update(status=state, closed_at=timezone.now())
        case = Case.objects.get(pk=case.pk)
    return case


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def people(team, collector, supervisor):
    return {
        "collector": collector,
        "supervisor": supervisor,
        "legal": UserFactory(username="legal", role="legal", team=None),
        "compliance": UserFactory(username="compliance", role="compliance", team=None),
        "admin": UserFactory(username="admin", role="admin", team=None),
    }


COMBINATIONS = [(state, situation) for state in STATES for situation in SITUATIONS]


@pytest.mark.django_db
@pytest.mark.parametrize("state, situation", COMBINATIONS, ids=[f"{s}-{f}" for s, f in COMBINATIONS])
def test_every_transition_and_role_does_what_the_table_says(state, situation, team, collector, people):
    case = build(state, situation, team, collector)

    outcomes, offered = {}, {}
    for role in ROLES:
        for name in SOURCES:
            if role == "system":
                take = lambda name=name: case_transition_by_system(case_id=case.pk, name=name, reason=REASON)  # noqa: E731
            else:
                actor = people[role]
                take = lambda name=name, actor=actor: case_transition(  # noqa: E731
                    case_id=case.pk, name=name, actor=actor, reason=REASON
                )
            outcomes[(name, role)] = attempt(take)
        if role != "system":
            case.refresh_from_db()
            offered[role] = set(transitions_for(case, people[role]))
            assert offered[role] == {t.name for t in case.get_available_user_status_transitions(people[role])}

    assert outcomes == {(name, role): expected(name, role, state, situation) for role in ROLES for name in SOURCES}
    assert offered == {role: expected_offer(role, state, situation) for role in ROLES if role != "system"}
    case.refresh_from_db()
    assert case.status == state


def test_the_readme_holds_the_same_table():
    readme = (Path(settings.BASE_DIR) / "README.md").read_text(encoding="utf-8")
    lines = readme.splitlines()
    header = lines.index("| transition | who or what | facts required | reason |")
    documented = []
    for line in lines[header + 2:]:
        if not line.startswith("|"):
            break
        documented.append(line)

    assert documented == [readme_row(*row) for row in TABLE]


def test_the_table_covers_every_transition_of_the_model_and_its_graph():
    model_graph = {}
    for item in Case._meta.get_field("status").get_all_transitions(Case):
        model_graph.setdefault(item.name, set()).add(item.source)

    assert model_graph == {name: set(sources) for name, sources in SOURCES.items()}
    assert {row[0] for row in TABLE} == set(Case.TRANSITION_NAMES)
    assert {row[0] for row in TABLE if "system" in row[1]} == set(Case.SYSTEM_TRANSITIONS)
    assert {row[0] for row in TABLE if row[3]} == set(Case.REASON_REQUIRED)
