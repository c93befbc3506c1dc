import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from cases.models import CardAccount
from negotiation.models import Contact
from reporting.models import PortfolioSnapshot


@pytest.mark.django_db
def test_the_benchmark_refuses_to_run_on_anything_but_postgresql(monkeypatch):
    monkeypatch.setattr(connection, "vendor", "sqlite")

    with pytest.raises(CommandError, match="needs PostgreSQL"):
        call_command("benchmark_reporting", "--accounts", "10", "--contacts", "10")


@pytest.mark.postgres
@pytest.mark.django_db
def test_the_benchmark_builds_its_volume_snapshots_it_and_times_every_page(capsys):
    call_command(
        "benchmark_reporting", "--accounts", "200", "--contacts", "2000", "--days", "10", "--snapshot-days", "3",
        "--history-days", "10", "--teams", "2", "--collectors", "4", "--repeat", "1",
    )

    output = capsys.readouterr().out
    assert CardAccount.objects.count() >= 200 and Contact.objects.count() >= 2000
    assert PortfolioSnapshot.objects.exists()
    assert "KPI dashboard, 30 days, admin" in output and "Export KPIs CSV, 1 year" in output
