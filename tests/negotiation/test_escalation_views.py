"""The case page's letters and escalation panel, the letter download and the legal page."""

import pytest

from negotiation.dispatch import letter_issue
from negotiation.models import Agency, Letter, Placement
from tests.factories import CaseFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def case(team):
    return CaseFactory(team=team)


def test_the_case_page_loads_the_escalation_panel(client, collector, case):
    client.force_login(collector)
    page = client.get(f"/cases/{case.pk}/").content.decode()
    assert f"/negotiation/cases/{case.pk}/escalation/" in page


def test_the_panel_lists_letters_with_their_download_link(client, collector, case):
    letter = letter_issue(case_id=case.pk, kind="collection_letter", actor=collector)
    client.force_login(collector)
    panel = client.get(f"/negotiation/cases/{case.pk}/escalation/").content.decode()
    assert letter.reference in panel
    assert f"/negotiation/letters/{letter.pk}/" in panel


def test_issuing_a_letter_from_the_panel(client, collector, case):
    client.force_login(collector)
    response = client.post(
        f"/negotiation/cases/{case.pk}/letters/", {"kind": "collection_letter"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert Letter.objects.filter(case=case).count() == 1


def test_a_refused_action_shows_why_in_the_panel(client, collector, case):
    client.force_login(collector)
    response = client.post(f"/negotiation/cases/{case.pk}/letters/", {"kind": "lawyer_letter"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 403
    assert 'data-testid="escalation-refused"' in response.content.decode()


def test_the_letter_download_is_404_for_another_team(client, collector, case, other_team):
    letter = letter_issue(case_id=case.pk, kind="collection_letter", actor=collector)
    client.force_login(UserFactory(username="outsider", role="collector", team=other_team))
    assert client.get(f"/negotiation/letters/{letter.pk}/").status_code == 404


def test_the_letter_downloads_as_an_attachment(client, collector, case):
    letter = letter_issue(case_id=case.pk, kind="collection_letter", actor=collector)
    client.force_login(collector)
    response = client.get(f"/negotiation/letters/{letter.pk}/")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")


def test_a_collector_proposes_a_placement_from_the_panel(client, collector, case):
    agency = Agency.objects.create(name="华安资产管理", licence_number="SH-1")
    client.force_login(collector)
    client.post(f"/negotiation/cases/{case.pk}/placements/", {"agency": agency.pk}, HTTP_HX_REQUEST="true")
    assert Placement.objects.get(case=case).status == "proposed"


def test_the_escalations_page_lists_placements_with_their_status(client, collector, supervisor, case):
    agency = Agency.objects.create(name="华安资产管理", licence_number="SH-1")
    Placement.objects.create(case=case, agency=agency, proposed_by=collector)
    client.force_login(supervisor)
    page = client.get("/negotiation/escalations/").content.decode()
    assert case.number in page and "华安资产管理" in page


def test_the_escalations_page_takes_the_same_queries_for_one_or_many_rows(
    client, collector, supervisor, team, django_assert_max_num_queries
):
    from negotiation.models import LitigationReferral

    agency = Agency.objects.create(name="华安资产管理", licence_number="SH-1")
    client.force_login(supervisor)

    def add(n):
        for _ in range(n):
            case = CaseFactory(team=team)
            Placement.objects.create(case=case, agency=agency, proposed_by=collector)
            LitigationReferral.objects.create(case=case, proposed_by=collector, legal_owner=supervisor)

    add(1)
    with django_assert_max_num_queries(50) as few:
        client.get("/negotiation/escalations/")
    add(6)
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get("/negotiation/escalations/")
