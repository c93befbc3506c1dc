"""The agreement panel on the case page: the signature, the SHA-256, the schedule with what is paid and owed, and a
download of the signed PDF that is hash-checked and audited like the API's; agreements are read-only in admin."""

import hashlib
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone

from cases.models import Case, CaseStatus
from compliance.models import AuditEvent, Hold
from plans.models import Agreement, Installment
from tests.factories import UserFactory
from tests.plans.agreement_staff_setup import BROWSER, SIGNER_IP, private_media, signed_agreement
from tests.plans.followup_setup import pay

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    private_media(settings, tmp_path)


@pytest.fixture
def agreement(team, collector):
    return signed_agreement(team=team, collector=collector)


def case_page(client, agreement) -> str:
    response = client.get(reverse("cases:detail", args=[agreement.case_id]))
    assert response.status_code == 200
    return response.content.decode()


def download_url(agreement) -> str:
    return reverse("plans:agreement-pdf", args=[agreement.pk])


def test_the_panel_shows_the_signature_the_hash_the_amounts_and_the_download_link(agreement, collector, as_user):
    pay(agreement.case, "3000.00")

    html = case_page(as_user(collector), agreement)

    assert 'data-testid="agreement-panel"' in html
    for shown in (agreement.number, agreement.sha256, "王芳", SIGNER_IP, BROWSER, "in force"):
        assert shown in html
    assert f'href="{download_url(agreement)}"' in html
    assert '<dd class="num" data-testid="agreement-paid">¥3,000.00</dd>' in html
    assert '<dd class="num" data-testid="agreement-outstanding">¥5,700.00</dd>' in html
    assert '<td class="num">¥2,800.00</td>' in html  # what the second installment still owes


def test_every_agreement_of_the_case_is_listed_newest_first_the_newest_open(agreement, collector, as_user):
    # A breached agreement, then the case renegotiated to plan again (rows moved directly: not under test here).
    Agreement.objects.filter(pk=agreement.pk).update(status=Agreement.Status.BREACHED)
    Case.objects.filter(pk=agreement.case_id).update(status=CaseStatus.PLAN)
    Hold.objects.filter(case_id=agreement.case_id).update(lifted_at=timezone.now())
    newer = signed_agreement(team=agreement.case.team, collector=collector, case=Case.objects.get(pk=agreement.case_id))

    html = case_page(as_user(collector), agreement)

    assert html.count('data-testid="agreement-panel"') == 1
    assert f'data-testid="agreement-{newer.pk}" open' in html
    assert f'data-testid="agreement-{agreement.pk}">' in html  # the earlier one folded
    assert html.index(newer.sha256) < html.index(agreement.sha256)
    assert "breached" in html


def test_the_download_serves_the_signed_bytes_and_is_audited(agreement, supervisor, as_user):
    response = as_user(supervisor).get(download_url(agreement))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'attachment; filename="{agreement.number}.pdf"'
    assert hashlib.sha256(response.content).hexdigest() == agreement.sha256
    event = AuditEvent.objects.get(action="agreement.download")
    assert (event.actor_id, event.target_id, event.case_id) == (supervisor.pk, str(agreement.pk), agreement.case_id)


def test_a_tampered_file_is_not_served_from_the_page_either(agreement, collector, as_user):
    Path(agreement.pdf.path).write_bytes(b"%PDF-1.7 forged")

    response = as_user(collector).get(download_url(agreement))

    assert response.status_code == 409
    assert 'data-code="hash_mismatch"' in response.content.decode()
    assert AuditEvent.objects.filter(action="agreement.hash_mismatch", actor=collector).count() == 1
    assert not AuditEvent.objects.filter(action="agreement.download").exists()


def test_a_collector_of_another_team_cannot_download(agreement, other_team, as_user):
    stranger = UserFactory(username="collector-south", role="collector", team=other_team)

    assert as_user(stranger).get(download_url(agreement)).status_code == 404
    assert not AuditEvent.objects.filter(action="agreement.download").exists()


def test_the_download_needs_a_login(agreement, client):
    response = client.get(download_url(agreement))

    assert response.status_code == 302
    assert "/login/" in response["Location"]


# --- Django admin ------------------------------------------------------------------------------------------


@pytest.fixture
def superuser(db):
    return UserFactory(username="root", role="admin", team=None, is_staff=True, is_superuser=True)


def test_admin_shows_an_agreement_and_its_installments_read_only(agreement, superuser, as_user):
    client = as_user(superuser)

    listing = client.get(reverse("admin:plans_agreement_changelist"))
    detail = client.get(reverse("admin:plans_agreement_change", args=[agreement.pk]))

    assert listing.status_code == 200 and agreement.number in listing.content.decode()
    html = detail.content.decode()
    assert detail.status_code == 200
    assert agreement.sha256 in html and SIGNER_IP in html and download_url(agreement) in html
    assert 'name="_save"' not in html
    assert 'name="signer_name"' not in html
    assert client.get(reverse("admin:plans_installment_changelist")).status_code == 200


@pytest.mark.parametrize("model", [Agreement, Installment])
def test_admin_cannot_add_change_or_delete(model, agreement, superuser, as_user):
    client = as_user(superuser)
    obj = model.objects.filter(agreement=agreement).first() if model is Installment else agreement
    name = model._meta.model_name

    assert client.get(reverse(f"admin:plans_{name}_add")).status_code == 403
    assert client.post(reverse(f"admin:plans_{name}_change", args=[obj.pk]), {"status": "breached"}).status_code == 403
    assert client.post(reverse(f"admin:plans_{name}_delete", args=[obj.pk]), {"post": "yes"}).status_code == 403
    obj.refresh_from_db()
    assert obj.status != "breached"
