"""Compliance officers change the contact rules by making a new version; decisions keep theirs."""

from datetime import time

import pytest
from django.core.exceptions import PermissionDenied

from compliance.models import AuditEvent, ContactPolicy
from compliance.services import contact_policy_revise
from config.errors import DomainError
from negotiation.services import contact_check
from tests.factories import CaseFactory

pytestmark = pytest.mark.django_db


def test_a_revision_is_a_new_version_and_the_old_one_stays(compliance_officer):
    revised = contact_policy_revise(
        jurisdiction="CN", actor=compliance_officer, reason="Bank rule: stop at 21:00", contact_end=time(21, 0)
    )
    assert revised.version == 2
    assert ContactPolicy.objects.get(jurisdiction="CN", version=1).contact_end == time(22, 0)
    event = AuditEvent.objects.get(action="contact_policy.revise")
    assert event.changes == {"contact_end": ["22:00:00", "21:00:00"]}


def test_a_decision_records_the_version_that_made_it(compliance_officer, collector, team):
    case = CaseFactory(team=team)
    before = contact_check(case_id=case.pk, channel="phone", actor=collector)
    contact_policy_revise(jurisdiction="CN", actor=compliance_officer, reason="Tighter", daily_attempt_limit=4)
    after = contact_check(case_id=case.pk, channel="phone", actor=collector)
    assert (before.policy.version, after.policy.version) == (1, 2)


@pytest.mark.parametrize("role", ["collector", "supervisor", "legal"])
def test_only_compliance_officers_and_admins_revise_policies(role, team):
    from tests.factories import UserFactory

    with pytest.raises(PermissionDenied):
        contact_policy_revise(
            jurisdiction="CN", actor=UserFactory(role=role, team=team), reason="x", daily_attempt_limit=4
        )


def test_hours_that_end_before_they_start_are_refused(compliance_officer):
    with pytest.raises(DomainError) as refused:
        contact_policy_revise(jurisdiction="CN", actor=compliance_officer, reason="x", contact_end=time(7, 0))
    assert refused.value.code == "invalid_hours"
    assert ContactPolicy.objects.filter(jurisdiction="CN").count() == 1


def test_a_revision_needs_a_reason_and_a_change(compliance_officer):
    with pytest.raises(DomainError):
        contact_policy_revise(jurisdiction="CN", actor=compliance_officer, reason=" ", daily_attempt_limit=4)
    with pytest.raises(DomainError) as nothing:
        contact_policy_revise(jurisdiction="CN", actor=compliance_officer, reason="x", daily_attempt_limit=6)
    assert nothing.value.code == "nothing_changed"


def test_the_policy_page_makes_the_next_version(client, compliance_officer):
    client.force_login(compliance_officer)
    page = client.get("/compliance/policies/CN/")
    assert page.status_code == 200
    form = page.context["form"]
    data = {name: form[name].value() for name in form.fields if name != "reason"}
    data.update(
        contact_start="08:00", contact_end="21:30", reason="Shorter evenings", allowed_parties=["debtor", "guarantor"]
    )
    data = {k: ("" if v is None else v) for k, v in data.items() if v is not False}
    response = client.post("/compliance/policies/CN/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert ContactPolicy.objects.get(jurisdiction="CN", version=2).contact_end == time(21, 30)


def test_collectors_cannot_open_the_policy_page(client, collector):
    client.force_login(collector)
    assert client.get("/compliance/policies/CN/").status_code == 403
