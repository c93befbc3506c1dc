"""Daily snapshots: what they hold, that a day can be rebuilt, and the backfill."""

import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Sum
from django.utils import timezone

from compliance.models import AuditEvent
from reporting.models import ActivitySnapshot, PortfolioSnapshot, RollSnapshot
from reporting.snapshots import snapshot_build
from reporting.tasks import snapshot_yesterday
from tests.reporting import dataset

pytestmark = pytest.mark.django_db


def rows(model, **lookups):
    fields = [f.attname for f in model._meta.concrete_fields if f.name != "id"]
    return sorted(tuple(row) for row in model.objects.filter(**lookups).values_list(*fields))


def test_open_cases_at_a_day_end_are_grouped_by_team_collector_class_and_bucket(portfolio):
    assert rows(PortfolioSnapshot, day=dataset.DAY) == [
        (
            dataset.DAY,
            portfolio.team_a.pk,
            portfolio.a1.pk,
            "early",
            "special_mention",
            1,
            Decimal("1000.00"),
            Decimal("1500.00"),
        ),
        (
            dataset.DAY,
            portfolio.team_a.pk,
            portfolio.a2.pk,
            "mid",
            "doubtful",
            1,
            Decimal("5000.00"),
            Decimal("5000.00"),
        ),
        (
            dataset.DAY,
            portfolio.team_b.pk,
            portfolio.b1.pk,
            "early",
            "special_mention",
            1,
            Decimal("2000.00"),
            Decimal("2000.00"),
        ),
    ]


def test_an_earlier_day_adds_back_what_was_paid_since_and_counts_the_case_closed_later(portfolio):
    snapshot = PortfolioSnapshot.objects.filter(day=date(2026, 9, 19)).aggregate(
        cases=Sum("cases"), overdue=Sum("overdue")
    )
    # c1 (1,000 + 500 paid on the 25th), c2 (5,000), c3 (2,000) and c4 (3,000 paid on the 20th).
    assert snapshot == {"cases": 4, "overdue": Decimal("11500.00")}


def test_the_bucket_is_the_one_of_the_days_past_due_on_that_day(portfolio):
    august = PortfolioSnapshot.objects.get(day=date(2026, 8, 31), collector=portfolio.a2)
    assert august.bucket == "substandard"  # delinquent since 15 May: 108 days on 31 August


def test_activity_is_credited_to_the_day_and_the_person_who_did_it(portfolio):
    alice = ActivitySnapshot.objects.filter(collector=portfolio.a1, day__gte=dataset.MONTH_START).aggregate(
        contacts=Sum("contacts"),
        rpc=Sum("right_party_contacts"),
        blocks=Sum("policy_blocks"),
        kept=Sum("promises_kept"),
        broken=Sum("promises_broken"),
    )
    assert alice == {"contacts": 4, "rpc": 2, "blocks": 1, "kept": 1, "broken": 1}
    assert ActivitySnapshot.objects.get(day=date(2026, 8, 31), collector=portfolio.a1).contacts == 1


def test_money_and_durations_are_summed_exactly(portfolio):
    totals = ActivitySnapshot.objects.filter(day__gte=dataset.MONTH_START).aggregate(
        collected=Sum("collected"), days=Sum("days_to_agreement"), opened=Sum("opened_overdue")
    )
    assert totals == {"collected": Decimal("3500.00"), "days": Decimal("73.00"), "opened": Decimal("2000.00")}


def test_a_month_end_records_where_the_cases_of_the_previous_month_end_went(portfolio):
    moves = sorted(RollSnapshot.objects.filter(month_end=dataset.DAY).values_list("from_bucket", "to_bucket", "cases"))
    assert moves == [
        ("current", "special_mention", 1),
        ("special_mention", "resolved", 1),
        ("substandard", "doubtful", 1),
    ]


def test_snapshotting_a_day_twice_gives_the_same_rows(portfolio):
    before = [rows(model) for model in (PortfolioSnapshot, ActivitySnapshot, RollSnapshot)]
    snapshot_build(start=dataset.DAY, end=dataset.DAY)
    snapshot_build(start=date(2026, 9, 1), end=dataset.DAY)
    assert [rows(model) for model in (PortfolioSnapshot, ActivitySnapshot, RollSnapshot)] == before


def test_a_rebuilt_day_reflects_what_changed_since(portfolio):
    from cases.models import CardAccount

    CardAccount.objects.filter(pk=portfolio.c3.account_id).update(principal_overdue=Decimal("2500"))
    snapshot_build(start=dataset.DAY, end=dataset.DAY)
    assert PortfolioSnapshot.objects.get(day=dataset.DAY, collector=portfolio.b1).overdue == Decimal("2500.00")


def test_the_backfill_command_snapshots_every_day_of_the_range(db):
    dataset.build()
    call_command("snapshot", "--from", "2026-09-01", "--to", "2026-09-30", stdout=io.StringIO())
    days = set(PortfolioSnapshot.objects.values_list("day", flat=True))
    assert days == {date(2026, 9, 1) + timedelta(days=n) for n in range(30)}
    assert AuditEvent.objects.filter(action="reporting.snapshot").count() == 1


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["--from", "2026-09-30", "--to", "2026-09-01"], "must not be after"),
        (["--from", "30/09/2026"], "Not a date"),
        (["--from", "2020-01-01", "--to", "2026-01-01"], "at most"),
    ],
)
def test_the_backfill_command_refuses_a_bad_range(db, arguments, message):
    with pytest.raises(CommandError, match=message):
        call_command("snapshot", *arguments)
    assert not PortfolioSnapshot.objects.exists()


def test_the_nightly_task_snapshots_yesterday(db):
    from tests.factories import CaseFactory

    CaseFactory(opened_at=timezone.now() - timedelta(days=3))
    snapshot_yesterday.delay()
    yesterday = timezone.localdate() - timedelta(days=1)
    assert set(PortfolioSnapshot.objects.values_list("day", flat=True)) == {yesterday}


def test_the_nightly_task_is_scheduled():
    from django.conf import settings

    entry = settings.CELERY_BEAT_SCHEDULE["reporting-snapshot"]
    assert entry["task"] == "reporting.tasks.snapshot_yesterday"


def test_each_month_touched_is_added_up_into_the_monthly_rollup(portfolio):
    from reporting.models import ActivityMonth

    september = ActivityMonth.objects.filter(month=date(2026, 9, 1)).aggregate(
        contacts=Sum("contacts"), collected=Sum("collected")
    )
    assert september == {"contacts": 6, "collected": Decimal("3500.00")}
    assert ActivityMonth.objects.filter(month=date(2026, 8, 1)).aggregate(n=Sum("contacts"))["n"] == 1
