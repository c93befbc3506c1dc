"""The case state machine of docs/architecture.md, through the service and through the API."""

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from cases.models import Case, CaseTransition
from cases.services import (
    ReasonRequired,
    TransitionRefused,
    UnknownTransition,
    case_transition,
    case_transition_by_system,
)
from compliance.models import AuditEvent
from compliance.reasons import ReasonCode
from tests.factories import CardAccountFactory, UserFactory, case_in, verified
from tests.plans.followup_setup import agreement_in_force

STATES = (
    "notify",
    "first_contact",
    "verification",
    "plan",
    "signed_agreement",
    "follow_up",
    "broken",
    "escalated",
    "resolved",
    "closed",
)
OPEN = STATES[:-2]

# Written out from docs/architecture.md on purpose, not derived from the model: name -> (sources, target).
GRAPH = {
    "record_first_contact": (("notify",), "first_contact"),
    "start_verification": (("first_contact",), "verification"),
    "propose_plan": (("verification",), "plan"),
    "revise": (("plan",), "verification"),
    "sign_agreement": (("plan",), "signed_agreement"),
    "start_follow_up": (("signed_agreement",), "follow_up"),
    "complete": (("follow_up",), "resolved"),
    "breach": (("follow_up",), "broken"),
    "renegotiate": (("broken",), "verification"),
    "escalate": (("notify", "first_contact", "verification", "plan", "broken"), "escalated"),
    "return_to_negotiation": (("escalated",), "first_contact"),
    "close": (OPEN, "closed"),
}
SUPERVISOR_ONLY = {"escalate", "return_to_negotiation", "close", "breach"}
# Only agreement signing and the payment of the last installment take these (tests/cases/test_transition_rules.py
# walks who takes what on which facts); the tests of people taking transitions leave them out.
SYSTEM_ONLY = {"sign_agreement", "start_follow_up", "complete"}
PERSON_GRAPH = {name: edge for name, edge in GRAPH.items() if name not in SYSTEM_ONLY}
REASON = "Cardholder asked for a written record."

ALLOWED = [(name, state) for name, (sources, _target) in PERSON_GRAPH.items() for state in sources]
REFUSED = [(name, state) for name, (sources, _target) in GRAPH.items() for state in STATES if state not in sources]


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    """Hundreds of staff users are made here; the production hasher would make them take minutes."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def ready_case(state, name=None, **kwargs):
    """A case in `state` whose guards for `name` hold: its situation is verified, as `propose_plan` requires, and
    for `breach` its agreement in force has a missed installment."""
    case = case_in(state, **kwargs)
    verified(case)
    if name == "breach":
        agreement = agreement_in_force(case, ["1000.00", "1000.00"], timezone.localdate())
        agreement.installments.filter(number=1).update(status="missed")
        type(agreement).objects.filter(pk=agreement.pk).update(missed_count=1)
    return case


def _id(pair):
    return f"{pair[0]}-from-{pair[1]}"


def _actor_for(name, collector, supervisor):
    return supervisor if name in SUPERVISOR_ONLY else collector


def _transition_url(case):
    return f"/api/v1/cases/{case.pk}/transitions/"


def _paid_account():
    return CardAccountFactory(principal_overdue=0, interest_overdue=0, fees_overdue=0, delinquent_since=None)


def _expected_available(role, state):
    if role not in ("collector", "supervisor", "admin"):
        return set()
    # The case has no agreement, so no breach (it needs a missed installment).
    return {
        name
        for name, (sources, _target) in PERSON_GRAPH.items()
        if state in sources and name != "breach" and (name not in SUPERVISOR_ONLY or role in ("supervisor", "admin"))
    }


# --- The graph, through the service -----------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("name, state", ALLOWED, ids=map(_id, ALLOWED))
def test_service_takes_each_transition_from_each_of_its_source_states(name, state, team, collector, supervisor):
    case = ready_case(state, name, team=team)

    case_transition(case_id=case.pk, name=name, actor=_actor_for(name, collector, supervisor), reason=REASON)

    case.refresh_from_db()
    assert case.status == GRAPH[name][1]


@pytest.mark.django_db
@pytest.mark.parametrize("name, state", REFUSED, ids=map(_id, REFUSED))
def test_service_refuses_each_transition_from_every_other_state(name, state, team, supervisor):
    case = case_in(state, team=team)

    with pytest.raises(TransitionRefused) as refused:
        case_transition(case_id=case.pk, name=name, actor=supervisor, reason=REASON)

    assert refused.value.code == "transition_not_allowed"
    assert refused.value.details[0]["code"] == "state"
    case.refresh_from_db()
    assert case.status == state
    assert not CaseTransition.objects.filter(case=case).exists()


# --- The graph, through the API ---------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("name, state", ALLOWED, ids=map(_id, ALLOWED))
def test_api_answers_200_for_each_transition_from_each_of_its_source_states(
    name, state, team, collector, supervisor, api
):
    case = ready_case(state, name, team=team)

    response = api(_actor_for(name, collector, supervisor)).post(
        _transition_url(case), {"name": name, "reason": REASON}, format="json"
    )

    assert response.status_code == 200, response.json()
    assert response.json()["status"] == GRAPH[name][1]
    case.refresh_from_db()
    assert case.status == GRAPH[name][1]


@pytest.mark.django_db
@pytest.mark.parametrize("name, state", REFUSED, ids=map(_id, REFUSED))
def test_api_answers_409_for_each_transition_from_every_other_state(name, state, team, supervisor, api):
    case = case_in(state, team=team)

    response = api(supervisor).post(_transition_url(case), {"name": name, "reason": REASON}, format="json")

    assert response.status_code == 409
    assert response.json()["code"] == "transition_not_allowed"
    case.refresh_from_db()
    assert case.status == state


def test_the_model_graph_is_the_graph_of_the_design():
    """Guards the tables above: a transition added to the model but not to docs/architecture.md fails here."""
    model_graph = {}
    for transition in Case._meta.get_field("status").get_all_transitions(Case):
        sources, target = model_graph.setdefault(transition.name, (set(), transition.target))
        sources.add(transition.source)
    design = {name: (set(sources), target) for name, (sources, target) in GRAPH.items()}
    design["settle"] = (set(OPEN), "resolved")

    assert model_graph == design
    assert set(Case.TRANSITION_NAMES) == set(design)


# --- Roles ------------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "name, state", [("escalate", "notify"), ("return_to_negotiation", "escalated"), ("close", "plan")]
)
def test_a_collector_gets_403_for_a_supervisor_only_transition(name, state, team, collector, api):
    case = case_in(state, team=team)

    response = api(collector).post(_transition_url(case), {"name": name, "reason": REASON}, format="json")

    assert response.status_code == 403
    case.refresh_from_db()
    assert case.status == state


@pytest.mark.django_db
@pytest.mark.parametrize(
    "name, state", [("escalate", "notify"), ("return_to_negotiation", "escalated"), ("close", "plan")]
)
def test_the_service_raises_permission_denied_for_a_collector_on_a_supervisor_only_transition(
    name, state, team, collector
):
    case = case_in(state, team=team)

    with pytest.raises(PermissionDenied):
        case_transition(case_id=case.pk, name=name, actor=collector, reason=REASON)


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["supervisor", "admin"])
@pytest.mark.parametrize(
    "name, state", [("escalate", "notify"), ("return_to_negotiation", "escalated"), ("close", "plan")]
)
def test_a_supervisor_or_admin_gets_200_for_a_supervisor_only_transition(name, state, role, team, supervisor, api):
    actor = supervisor if role == "supervisor" else UserFactory(username="admin", role="admin", team=None)
    case = case_in(state, team=team)

    response = api(actor).post(_transition_url(case), {"name": name, "reason": REASON}, format="json")

    assert response.status_code == 200
    assert response.json()["status"] == GRAPH[name][1]


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["compliance", "legal"])
def test_compliance_and_legal_may_not_take_a_transition_on_a_case_they_can_see(role, team, api):
    user = UserFactory(username=role, role=role, team=None)
    case = case_in("escalated", team=team)

    response = api(user).post(_transition_url(case), {"name": "return_to_negotiation", "reason": REASON}, format="json")

    assert response.status_code == 403
    case.refresh_from_db()
    assert case.status == "escalated"


# --- Reasons ----------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("reason", ["", "   "], ids=["empty", "blank"])
@pytest.mark.parametrize(
    "name, state", [("escalate", "notify"), ("return_to_negotiation", "escalated"), ("close", "plan")]
)
def test_a_transition_that_needs_a_reason_gets_400_reason_required_without_one(
    name, state, reason, team, supervisor, api
):
    case = case_in(state, team=team)

    response = api(supervisor).post(_transition_url(case), {"name": name, "reason": reason}, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "reason_required"
    case.refresh_from_db()
    assert case.status == state
    assert not CaseTransition.objects.filter(case=case).exists()


@pytest.mark.django_db
def test_the_service_raises_reason_required_when_closing_without_a_reason(team, supervisor):
    case = case_in("plan", team=team)

    with pytest.raises(ReasonRequired):
        case_transition(case_id=case.pk, name="close", actor=supervisor)


@pytest.mark.django_db
def test_a_transition_without_a_required_reason_needs_none(team, collector, api):
    case = case_in("notify", team=team)

    response = api(collector).post(_transition_url(case), {"name": "record_first_contact"}, format="json")

    assert response.status_code == 200


# --- settle: the system's own transition ------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["collector", "supervisor", "admin", "compliance"])
@pytest.mark.parametrize("state", OPEN)
def test_settle_is_never_offered_to_a_user_even_when_nothing_is_overdue(state, role, team, api):
    user = UserFactory(username=role, role=role, team=team)
    case = case_in(state, team=team, account=_paid_account())

    response = api(user).get(f"/api/v1/cases/{case.pk}/")

    assert response.status_code == 200
    assert "settle" not in response.json()["available_transitions"]


@pytest.mark.django_db
@pytest.mark.parametrize("actor", ["collector", "supervisor"])
def test_a_user_who_asks_to_settle_a_paid_case_is_refused_403(actor, team, collector, supervisor, api):
    case = case_in("verification", team=team, account=_paid_account())

    response = api({"collector": collector, "supervisor": supervisor}[actor]).post(
        _transition_url(case), {"name": "settle"}, format="json"
    )

    assert response.status_code == 403
    case.refresh_from_db()
    assert case.status == "verification"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "name, state", [("sign_agreement", "plan"), ("start_follow_up", "signed_agreement")]
)
def test_the_system_takes_the_signing_steps_once_an_agreement_is_in_force(name, state, team):
    case = case_in(state, team=team)
    agreement_in_force(case, ["1000.00"], timezone.localdate())

    case_transition_by_system(case_id=case.pk, name=name, reason="signed")

    case.refresh_from_db()
    assert case.status == GRAPH[name][1]
    step = CaseTransition.objects.get(case=case)
    assert (step.name, step.actor) == (name, None)


@pytest.mark.django_db
def test_the_system_completes_a_case_once_every_installment_is_paid(team):
    case = case_in("follow_up", team=team)
    agreement = agreement_in_force(case, ["1000.00", "500.00"], timezone.localdate())
    for installment in agreement.installments.all():
        installment.paid_amount, installment.status = installment.amount, "paid"
        installment.save()

    case_transition_by_system(case_id=case.pk, name="complete", reason="paid")

    case.refresh_from_db()
    assert case.status == "resolved"
    assert case.closed_at is not None


@pytest.mark.django_db
@pytest.mark.parametrize("state", OPEN)
def test_the_system_settles_an_open_case_when_nothing_is_overdue(state, team):
    case = case_in(state, team=team, account=_paid_account())

    case_transition_by_system(case_id=case.pk, name="settle", reason_code=ReasonCode.OVERDUE_PAID)

    case.refresh_from_db()
    assert case.status == "resolved"
    assert case.closed_at is not None


@pytest.mark.django_db
@pytest.mark.parametrize("state", OPEN)
def test_the_system_may_not_settle_while_something_is_overdue(state, team):
    case = case_in(state, team=team)
    assert case.account.overdue_total > 0

    with pytest.raises(TransitionRefused) as refused:
        case_transition_by_system(case_id=case.pk, name="settle", reason_code=ReasonCode.OVERDUE_PAID)

    assert refused.value.code == "guard_failed"
    assert [guard["code"] for guard in refused.value.details] == ["overdue_not_settled"]
    case.refresh_from_db()
    assert case.status == state


@pytest.mark.django_db
@pytest.mark.parametrize("state", ["resolved", "closed"])
def test_the_system_may_not_settle_a_terminal_case(state, team):
    case = case_in(state, team=team, account=_paid_account())

    with pytest.raises(TransitionRefused) as refused:
        case_transition_by_system(case_id=case.pk, name="settle", reason_code=ReasonCode.OVERDUE_PAID)

    assert refused.value.details[0]["code"] == "state"


# --- What every transition leaves behind ------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("name", list(PERSON_GRAPH))
def test_every_transition_records_who_when_from_to_and_why(name, team, collector, supervisor):
    state = GRAPH[name][0][0]
    actor = _actor_for(name, collector, supervisor)
    case = ready_case(state, name, team=team)
    started = timezone.now()

    case_transition(case_id=case.pk, name=name, actor=actor, reason=REASON)

    step = CaseTransition.objects.get(case=case)
    assert (step.name, step.source, step.target, step.actor, step.reason) == (
        name,
        state,
        GRAPH[name][1],
        actor,
        REASON,
    )
    assert started <= step.at <= timezone.now()


@pytest.mark.django_db
@pytest.mark.parametrize("name", list(PERSON_GRAPH))
def test_every_transition_writes_an_audit_event(name, team, collector, supervisor):
    state = GRAPH[name][0][0]
    actor = _actor_for(name, collector, supervisor)
    case = ready_case(state, name, team=team)

    case_transition(case_id=case.pk, name=name, actor=actor, reason=REASON)

    event = AuditEvent.objects.get(action=f"case.{name}")
    assert event.case_id == case.pk
    assert event.actor == actor
    assert event.changes == {"status": [state, GRAPH[name][1]]}
    assert event.reason == REASON


@pytest.mark.django_db
def test_the_system_settlement_is_recorded_without_a_person(team):
    case = case_in("follow_up", team=team, account=_paid_account())

    case_transition_by_system(case_id=case.pk, name="settle", reason_code=ReasonCode.OVERDUE_PAID)

    step = CaseTransition.objects.get(case=case)
    assert (step.name, step.source, step.target, step.actor) == ("settle", "follow_up", "resolved", None)
    event = AuditEvent.objects.get(action="case.settle")
    assert event.actor_kind == "system"


@pytest.mark.django_db
def test_a_refused_transition_leaves_no_trace(team, supervisor):
    case = case_in("closed", team=team)

    with pytest.raises(TransitionRefused):
        case_transition(case_id=case.pk, name="close", actor=supervisor, reason=REASON)

    assert not CaseTransition.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="case.").exists()


# --- Refusal bodies ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_409_body_names_the_state_that_refused_the_transition(team, supervisor, api):
    case = case_in("closed", team=team)

    body = api(supervisor).post(_transition_url(case), {"name": "escalate", "reason": REASON}, format="json").json()

    assert body["code"] == "transition_not_allowed"
    assert body["details"] == [
        {"code": "state", "transition": "escalate", "state": "closed", "detail": body["details"][0]["detail"]}
    ]
    assert body["detail"]


@pytest.mark.django_db
def test_the_409_body_names_the_failed_guard(team, collector, api):
    case = case_in("plan", team=team)

    response = api(collector).post(_transition_url(case), {"name": "settle"}, format="json")

    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "guard_failed"
    assert [guard["code"] for guard in body["details"]] == ["overdue_not_settled"]


@pytest.mark.django_db
def test_the_refusal_names_the_failed_guard(team):
    case = case_in("plan", team=team)

    with pytest.raises(TransitionRefused) as refused:
        case_transition_by_system(case_id=case.pk, name="settle", reason_code=ReasonCode.OVERDUE_PAID)

    body = refused.value.as_dict()
    assert body["code"] == "guard_failed"
    assert body["details"][0]["code"] == "overdue_not_settled"
    assert body["details"][0]["detail"]


@pytest.mark.django_db
def test_an_unknown_transition_name_gets_400(team, supervisor, api):
    case = case_in("notify", team=team)

    response = api(supervisor).post(_transition_url(case), {"name": "teleport", "reason": REASON}, format="json")

    assert response.status_code == 400
    assert "name" in response.json()
    case.refresh_from_db()
    assert case.status == "notify"


@pytest.mark.django_db
def test_the_service_raises_unknown_transition_for_a_name_outside_the_graph(team, supervisor):
    case = case_in("notify", team=team)

    with pytest.raises(UnknownTransition) as unknown:
        case_transition(case_id=case.pk, name="save", actor=supervisor, reason=REASON)

    assert unknown.value.code == "unknown_transition"


@pytest.mark.django_db
def test_a_transition_without_a_name_gets_400(team, supervisor, api):
    case = case_in("notify", team=team)

    response = api(supervisor).post(_transition_url(case), {"reason": REASON}, format="json")

    assert response.status_code == 400


# --- available_transitions --------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("role", ["collector", "supervisor", "admin", "compliance"])
def test_available_transitions_are_those_the_callers_role_may_take_in_this_state(role, state, team, api):
    user = UserFactory(username=role, role=role, team=team)
    case = ready_case(state, team=team)

    response = api(user).get(f"/api/v1/cases/{case.pk}/")

    assert response.status_code == 200
    assert set(response.json()["available_transitions"]) == _expected_available(role, state)


@pytest.mark.django_db
def test_legal_is_offered_no_transition_on_an_escalated_case(team, legal_user, api):
    case = case_in("escalated", team=team)

    response = api(legal_user).get(f"/api/v1/cases/{case.pk}/")

    assert response.status_code == 200
    assert response.json()["available_transitions"] == []


@pytest.mark.django_db
def test_the_transition_response_carries_the_new_available_transitions(team, collector, api):
    case = case_in("notify", team=team)

    body = api(collector).post(_transition_url(case), {"name": "record_first_contact"}, format="json").json()

    assert body["status"] == "first_contact"
    assert body["available_transitions"] == ["start_verification"]
    assert [step["name"] for step in body["transitions"]] == ["record_first_contact"]
