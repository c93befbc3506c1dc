import time
import unicodedata
from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone

from cases import demo
from negotiation.demo import activity_seed, escalations_seed
from plans.demo import plans_seed, portal_demo_link
from reporting.snapshots import snapshot_build

SNAPSHOT_DAYS = 90  # so the KPI dashboard has a history to show


class Command(BaseCommand):
    help = (
        "Load the demo portfolio (staff, assignment rules, 300 cardholders with a real case history, contacts "
        "through the gate, complaints) once; "
        "later runs change nothing and print the logins again. Staff get the demo password only when "
        "ACCORD_DEMO=true; otherwise their passwords are left unusable."
    )

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=demo.DEMO_SEED, help="seed of the random generator")

    def handle(self, *args, **options):
        started = time.monotonic()
        result = demo.demo_seed(demo_mode=settings.DEMO_MODE, seed=options["seed"])
        if result.created:
            escalated = escalations_seed(result.escalations)
            self.stdout.write(f"Escalations: {escalated} cases placed with an agency or referred to litigation.")
            activity = activity_seed(seed=options["seed"])
            self.stdout.write(
                f"Activity: {activity['contacts']} contacts ({activity['refused']} refused by the gate), "
                f"{activity['complaints']} complaints, {activity['messages']} notices, "
                f"{activity['verifications']} verifications, {activity['promises']} promises to pay."
            )
            plans = plans_seed()
            self.stdout.write(
                f"Plans: {plans['offers']} offers ({plans['pending']} awaiting a supervisor's approval), "
                f"{plans['signed']} agreements signed in the portal."
            )
            # Through today, as the demo's cases are opened today; the nightly task will redo it tomorrow.
            today = timezone.localdate()
            snapshot = snapshot_build(start=today - timedelta(days=SNAPSHOT_DAYS - 1), end=today)
            self.stdout.write(
                f"Reporting snapshots of the last {SNAPSHOT_DAYS} days: {snapshot.portfolio_rows} portfolio rows, "
                f"{snapshot.activity_rows} activity rows."
            )
            self.stdout.write(self.style.SUCCESS(f"Demo data loaded in {time.monotonic() - started:.1f}s."))
        else:
            self.stdout.write(f"Demo data already present ({demo.MARKER_REF} exists); nothing changed.")
        if result.refused:
            refused = ", ".join(f"{name} ×{n}" for name, n in sorted(result.refused.items()))
            self.stdout.write(f"Transitions refused by their guards and skipped: {refused}")
        self._counts(demo.demo_counts())
        self._logins(result.logins)
        self._portal_link()

    def _portal_link(self) -> None:
        demo_link = portal_demo_link()
        self.stdout.write("")
        if demo_link is None:
            self.stdout.write("No demo case has an offer ready to send, so no portal link was made.")
            return
        url, last_four = demo_link
        self.stdout.write(f"Cardholder portal (a new link each run, valid {settings.PORTAL_LINK_DAYS} days): {url}")
        self.stdout.write(
            f"  identity: the last four of the id are {last_four}; the one-time code arrives as a text message "
            f"in {settings.SMS_FILE_DIR}/ once the worker has sent it."
        )

    def _counts(self, counts: dict) -> None:
        self.stdout.write("")
        self.stdout.write(
            f"Cardholders {counts['debtors']}, accounts {counts['accounts']}, contact persons "
            f"{counts['contact_persons']}, payments {counts['payments']}, wilful evidence {counts['evidence']}, "
            f"cases {counts['cases']} ({counts['wilful_suggested']} open ones suggested wilful)"
        )
        for title, key in (
            ("cases by state", "by_state"),
            ("open by class", "by_class"),
            ("open by bucket", "by_bucket"),
        ):
            self.stdout.write(f"  {title:<15} " + "  ".join(f"{name} {n}" for name, n in counts[key].items()))

    def _logins(self, logins: list) -> None:
        self.stdout.write("")
        if not settings.DEMO_MODE:
            self.stdout.write(
                self.style.WARNING(
                    "DEMO_MODE is off (ACCORD_DEMO is not true): the demo staff have no usable password. "
                    "Set one with `manage.py changepassword <username>`, or run again with ACCORD_DEMO=true."
                )
            )
        widths = (12, 11, 10)
        self.stdout.write(f"{'username':<{widths[0]}} {'role':<{widths[1]}} {'team':<{widths[2]}} password")
        for username, role, team, password in logins:
            # Chinese characters take two columns in a terminal.
            team_pad = widths[2] - sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in team)
            self.stdout.write(f"{username:<{widths[0]}} {role:<{widths[1]}} {team}{' ' * max(team_pad, 1)}{password}")
