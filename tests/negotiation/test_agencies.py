"""The agency register page: supervisors and admins keep it, legal and compliance read it, every change audited."""

import pytest
from django.urls import reverse

from accounts.landing import navigation_for
from compliance.models import AuditEvent
from config.errors import DomainError
from negotiation.agencies import AgencyError, agency_create
from negotiation.models import Agency, Placement
from tests.factories import CaseFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def agency(db):
    return Agency.objects.create(name="华安资产管理", licence_number="SH-2026-001", contact="021-5555-0000")


def post_new(client, **fields):
    data = {"name": "信达催收服务", "licence_number": "BJ-2026-017", "contact": "010-6666-0000", **fields}
    return client.post(reverse("negotiation:agency-create"), data)


def test_a_supervisor_adds_an_agency_and_the_addition_is_audited(as_user, supervisor):
    response = post_new(as_user(supervisor))

    assert response.status_code == 302 and response.url == reverse("negotiation:agencies")
    agency = Agency.objects.get(name="信达催收服务")
    assert (agency.licence_number, agency.contact, agency.active) == ("BJ-2026-017", "010-6666-0000", True)
    event = AuditEvent.objects.get(action="agency.create", target_id=str(agency.pk))
    assert event.actor == supervisor and event.changes["licence_number"] == "BJ-2026-017"


@pytest.mark.parametrize("fields, field", [
    ({"name": "   "}, "name"),
    ({"licence_number": "x"}, "licence_number"),
    ({"licence_number": "SH 2026 001"}, "licence_number"),
    ({"name": "华安资产管理"}, "name"),
    ({"licence_number": "sh-2026-001"}, "licence_number"),
])
def test_an_invalid_or_duplicate_agency_is_refused_on_its_field_and_nothing_is_stored(
    as_user, supervisor, agency, fields, field
):
    response = post_new(as_user(supervisor), **fields)

    assert response.status_code == 400
    assert f'data-testid="error-{field}"' in response.content.decode()
    assert Agency.objects.count() == 1
    assert not AuditEvent.objects.filter(action="agency.create").exists()


def test_the_service_names_a_duplicate_licence_by_its_code(supervisor, agency):
    with pytest.raises(DomainError) as refused:
        agency_create(actor=supervisor, name="Another", licence_number="SH-2026-001")
    assert refused.value.code == AgencyError.LICENCE_TAKEN


def test_an_edit_records_what_changed(as_user, supervisor, agency):
    response = as_user(supervisor).post(reverse("negotiation:agency-edit", args=[agency.pk]), {
        "name": "华安资产管理", "licence_number": "SH-2026-001", "contact": "021-5555-8888",
    })
    assert response.status_code == 302
    agency.refresh_from_db()
    assert agency.contact == "021-5555-8888"
    event = AuditEvent.objects.get(action="agency.update", target_id=str(agency.pk))
    assert event.changes == {"contact": ["021-5555-0000", "021-5555-8888"]}


def test_deactivating_needs_a_reason(as_user, supervisor, agency):
    response = as_user(supervisor).post(reverse("negotiation:agency-active", args=[agency.pk]),
                                        {"active": "false", "reason": " "})
    assert response.status_code == 400
    agency.refresh_from_db()
    assert agency.active


def test_a_deactivated_agency_is_audited_and_offered_for_no_new_placement(as_user, supervisor, agency, team):
    response = as_user(supervisor).post(reverse("negotiation:agency-active", args=[agency.pk]),
                                        {"active": "false", "reason": "许可证到期"})
    assert response.status_code == 302
    agency.refresh_from_db()
    assert not agency.active
    assert AuditEvent.objects.get(action="agency.deactivate", target_id=str(agency.pk)).reason == "许可证到期"
    case = CaseFactory(team=team)
    panel = as_user(supervisor).get(reverse("negotiation:escalation-panel", args=[case.pk]), HTTP_HX_REQUEST="true")
    assert f'value="{agency.pk}"' not in panel.content.decode()


@pytest.mark.parametrize("role_fixture", ["legal_user", "compliance_officer"])
def test_legal_and_compliance_read_the_register_but_cannot_change_it(request, as_user, agency, role_fixture):
    client = as_user(request.getfixturevalue(role_fixture))

    page = client.get(reverse("negotiation:agencies"))
    assert page.status_code == 200
    assert "华安资产管理" in page.content.decode()
    assert 'data-testid="agency-add"' not in page.content.decode()
    assert post_new(client).status_code == 403
    assert client.post(reverse("negotiation:agency-active", args=[agency.pk]),
                       {"active": "false", "reason": "x"}).status_code == 403
    assert Agency.objects.count() == 1


def test_a_collector_does_not_see_the_register(as_user, collector):
    assert as_user(collector).get(reverse("negotiation:agencies")).status_code == 403


def test_the_register_counts_cases_placed_now_in_a_constant_number_of_queries(
    as_user, supervisor, collector, agency, team, django_assert_max_num_queries
):
    other = Agency.objects.create(name="信达催收服务", licence_number="BJ-1")
    for status in (Placement.Status.HANDED_OVER, Placement.Status.HANDED_OVER, Placement.Status.RECALLED,
                   Placement.Status.PROPOSED):
        Placement.objects.create(case=CaseFactory(team=team), agency=agency, proposed_by=collector, status=status)
    Placement.objects.create(case=CaseFactory(team=team), agency=other, proposed_by=collector,
                             status=Placement.Status.HANDED_OVER)
    client = as_user(supervisor)
    with django_assert_max_num_queries(8):
        html = client.get(reverse("negotiation:agencies")).content.decode()
    assert f'data-testid="agency-{agency.pk}-placed">2<' in html
    assert f'data-testid="agency-{other.pk}-placed">1<' in html


@pytest.mark.parametrize("role, linked", [
    ("supervisor", True), ("admin", True), ("legal", True), ("compliance", True), ("collector", False),
])
def test_the_navigation_links_the_register_for_the_roles_that_see_it(role, linked):
    user = type("U", (), {"role": role})()
    assert (reverse("negotiation:agencies") in [url for url, _label in navigation_for(user)]) is linked
