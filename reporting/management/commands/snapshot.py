from datetime import date, timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from reporting.snapshots import MAX_BACKFILL_DAYS, snapshot_build


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as error:
        raise CommandError(f"Not a date (YYYY-MM-DD): {text}") from error


class Command(BaseCommand):
    help = (
        "Build (or rebuild) the reporting snapshots of every day from --from to --to, both included; "
        "by default yesterday. Safe to repeat: a day's rows are replaced."
    )

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="start", type=_day)
        parser.add_argument("--to", dest="end", type=_day)

    def handle(self, *args, start: date | None, end: date | None, **options):
        yesterday = timezone.localdate() - timedelta(days=1)
        end = end or (start if start and start <= yesterday else yesterday)
        start = start or end
        if start > end:
            raise CommandError("--from must not be after --to.")
        if end > timezone.localdate():
            raise CommandError("--to cannot be in the future: a day is snapshotted once it has ended.")
        if (end - start).days >= MAX_BACKFILL_DAYS:
            raise CommandError(f"Backfill at most {MAX_BACKFILL_DAYS} days at a time.")
        result = snapshot_build(start=start, end=end)
        self.stdout.write(
            f"Snapshots {result.start} to {result.end}: {result.portfolio_rows} portfolio rows, "
            f"{result.activity_rows} activity rows, {result.roll_rows} roll-rate rows."
        )
