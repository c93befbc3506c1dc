from django.core.management.base import BaseCommand, CommandError

from reporting.consistency import case_number, consistency_check


class Command(BaseCommand):
    help = (
        "Scan the database for contradictions the services should never leave (a closed case with an agreement "
        "in force, a follow-up without an agreement, a missing or stray hold, two open cases for one account, "
        "a payment allocated twice, ...) and print each with its case number. Exit status 1 when there is any."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--limit", type=int, default=None, help="print at most this many cases a check (the count stays complete)"
        )

    def handle(self, *args, limit: int | None, **options):
        if limit is not None and limit < 1:
            raise CommandError("--limit must be at least 1")
        findings = consistency_check(limit=limit)
        found = [finding for finding in findings if finding.count]
        for finding in found:
            self.stdout.write(f"{finding.check.code}: {finding.count} — {finding.check.label}")
            for case_id in finding.case_ids:
                self.stdout.write(f"  {case_number(case_id)}")
            if len(finding.case_ids) < finding.count:
                self.stdout.write(f"  … and {finding.count - len(finding.case_ids)} more")
        total = sum(finding.count for finding in found)
        if total:
            raise CommandError(f"{total} contradictions in {len(found)} of {len(findings)} checks.", returncode=1)
        self.stdout.write(self.style.SUCCESS(f"No contradiction: {len(findings)} checks hold."))
