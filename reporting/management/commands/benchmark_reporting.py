"""Build a large portfolio with set-based inserts, snapshot it, and time every dashboard and export."""

import statistics
import time
import uuid
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.test import Client
from django.test.utils import override_settings
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role, Team
from compliance.models import ContactPolicy
from reporting.snapshots import activity_months_rebuild, snapshot_build

PAGES = (
    # (label, user, url name, kwargs, query)
    ("KPI dashboard, 30 days, admin", "admin", "reporting:kpis", {}, {}),
    ("KPI dashboard, 30 days, supervisor", "supervisor", "reporting:kpis", {}, {}),
    (
        "KPI dashboard, 30 days, one team + class",
        "admin",
        "reporting:kpis",
        {},
        {"team": "TEAM", "classification": "mid"},
    ),
    ("KPI dashboard, 30 days, one collector", "admin", "reporting:kpis", {}, {"collector": "COLLECTOR"}),
    ("KPI dashboard, 1 year, admin", "admin", "reporting:kpis", {}, {"start": "YEAR"}),
    ("Scorecard, collector", "collector", "reporting:scorecard", {}, {}),
    ("Export collectors CSV", "admin", "reporting:export", {"table": "collectors", "fmt": "csv"}, {}),
    ("Export trend XLSX", "admin", "reporting:export", {"table": "trend", "fmt": "xlsx"}, {}),
    ("Export KPIs CSV, 1 year", "admin", "reporting:export", {"table": "kpis", "fmt": "csv"}, {"start": "YEAR"}),
)


class Command(BaseCommand):
    help = (
        "Benchmark the reporting dashboards: generate --accounts accounts and cases and --contacts contacts (with "
        "payments, promises, complaints, policy blocks and screening hits) over --days days in PostgreSQL with "
        "INSERT … SELECT generate_series, snapshot the last --snapshot-days days (timed: the nightly job's cost), "
        "copy those snapshots back to fill --history-days (so a one-year dashboard reads a year of rows), then "
        "time each dashboard and export. It writes into the configured database: use a scratch one "
        "(DATABASE_URL=postgres://…/accord_bench)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--accounts", type=int, default=1_000_000)
        parser.add_argument("--contacts", type=int, default=10_000_000)
        parser.add_argument("--days", type=int, default=90, help="days of raw history to generate")
        parser.add_argument("--snapshot-days", type=int, default=35, help="days to snapshot from the raw tables")
        parser.add_argument("--history-days", type=int, default=366, help="days of snapshots to time against")
        parser.add_argument("--teams", type=int, default=20)
        parser.add_argument("--collectors", type=int, default=400)
        parser.add_argument("--repeat", type=int, default=9)
        parser.add_argument("--skip-build", action="store_true", help="reuse the raw data already there")
        parser.add_argument("--skip-snapshot", action="store_true", help="reuse the snapshots already there")

    def handle(self, *args, **options):
        if connection.vendor != "postgresql":
            raise CommandError("The benchmark needs PostgreSQL: set DATABASE_URL to a scratch PostgreSQL database.")
        today = timezone.localdate()
        if not options["skip_build"]:
            self._timed("build", lambda: build(today=today, **{k: options[k] for k in BUILD_OPTIONS}))
        if not options["skip_snapshot"]:
            days = options["snapshot_days"]
            start, end = today - timedelta(days=days), today - timedelta(days=1)
            result = self._timed(f"snapshot of {days} days", lambda: snapshot_build(start=start, end=end))
            self.stdout.write(
                f"  {result.portfolio_rows:,} portfolio rows, {result.activity_rows:,} activity rows, "
                f"{result.roll_rows:,} roll rows"
            )
            self._timed("history copied back", lambda: pad_history(start, end, options["history_days"]))
        self._time_pages(options["repeat"], today)

    def _timed(self, label: str, work):
        started = time.perf_counter()
        with override_settings(DEBUG=False):
            result = work()
        self.stdout.write(f"{label}: {time.perf_counter() - started:.1f} s")
        return result

    def _time_pages(self, repeat: int, today) -> None:
        users = get_user_model().objects
        people = {
            "admin": users.filter(username="bench-admin").first(),
            "supervisor": users.filter(role=Role.SUPERVISOR, username__startswith="bench-sup").first(),
            "collector": users.filter(role=Role.COLLECTOR, username__startswith="bench-").first(),
        }
        if not all(people.values()):
            raise CommandError("No benchmark data here: run without --skip-build first.")
        team = Team.objects.filter(name__startswith="Bench team").order_by("pk").first()
        counts = connection.cursor()
        counts.execute(
            "SELECT (SELECT count(*) FROM cases_cardaccount), (SELECT count(*) FROM negotiation_contact), "
            "(SELECT count(*) FROM reporting_portfoliosnapshot), (SELECT count(*) FROM reporting_activitysnapshot)"
        )
        accounts, contacts, portfolio_rows, activity_rows = counts.fetchone()
        self.stdout.write(
            f"Database {connection.settings_dict['NAME']}: {accounts:,} accounts, {contacts:,} contacts; "
            f"snapshots: {portfolio_rows:,} portfolio rows, {activity_rows:,} activity rows"
        )
        self.stdout.write(f"{'page':48} {'median ms':>10} {'p95 ms':>8} {'max ms':>8} {'bytes':>9}")
        with override_settings(DEBUG=False, ALLOWED_HOSTS=["*"], LANGUAGE_CODE="en"):
            for label, who, name, kwargs, query in PAGES:
                client = Client()
                client.force_login(people[who])
                values = {
                    "TEAM": str(team.pk),
                    "COLLECTOR": str(people["collector"].pk),
                    "YEAR": (today - timedelta(days=365)).isoformat(),
                }
                params = {key: values.get(value, value) for key, value in query.items()}
                url = reverse(name, kwargs=kwargs)
                timings, size = [], 0
                for _ in range(repeat + 1):
                    started = time.perf_counter()
                    response = client.get(url, params)
                    content = b"".join(response) if response.streaming else response.content
                    timings.append((time.perf_counter() - started) * 1000)
                    if response.status_code != 200:
                        raise CommandError(f"{label}: HTTP {response.status_code}")
                    size = len(content)
                timings = sorted(timings[1:])  # the first request warms caches and is left out
                p95 = timings[min(len(timings) - 1, round(0.95 * (len(timings) - 1)))]
                self.stdout.write(
                    f"{label:48} {statistics.median(timings):10.1f} {p95:8.1f} {timings[-1]:8.1f} {size:9,}"
                )


BUILD_OPTIONS = ("accounts", "contacts", "days", "teams", "collectors")
SNAPSHOT_TABLES = (
    ("reporting_portfoliosnapshot", "day"),
    ("reporting_activitysnapshot", "day"),
    ("reporting_rollsnapshot", "month_end"),
)


def pad_history(start, end, history_days: int) -> None:
    """Repeat the snapshotted window further back until the snapshots cover history_days: the dashboards then
    read as many rows as they would after a year of nightly runs (the figures repeat; their cost is real)."""
    span = (end - start).days + 1
    oldest = end - timedelta(days=history_days - 1)
    with transaction.atomic():
        for table, day in SNAPSHOT_TABLES:
            with connection.cursor() as cursor:
                cursor.execute("SELECT column_name FROM information_schema.columns WHERE table_name = %s", [table])
                columns = [name for (name,) in cursor.fetchall() if name not in ("id", day)]
                names = ", ".join(columns)
                _execute(f"DELETE FROM {table} WHERE {day} < %s", [start])  # noqa: S608 (fixed names)
                shift = span
                while start - timedelta(days=shift - span) > oldest:
                    _execute(
                        f"INSERT INTO {table} ({day}, {names}) SELECT {day} - %s, {names} FROM {table} "  # noqa: S608
                        f"WHERE {day} BETWEEN %s AND %s AND {day} - %s >= %s",
                        [shift, start, end, shift, oldest],
                    )
                    shift += span
        activity_months_rebuild(start=oldest, end=end)
    for table in (*(table for table, _day in SNAPSHOT_TABLES), "reporting_activitymonth"):
        _execute(f"ANALYZE {table}")


def _execute(sql: str, params=None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])


def _insert_rows(table: str, rows: int, sql: str, params: list) -> int:
    """Run an INSERT … SELECT of `rows` rows; return the id just before its first one. The ids one statement
    draws are consecutive, but a sequence is not max(id) + 1 after a rolled-back run, so they are read back."""
    before = _max_id(table)
    _execute(sql, params)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT MIN(id), MAX(id), COUNT(*) FROM {table} WHERE id > %s", [before])  # noqa: S608
        first, last, count = cursor.fetchone()
    if count != rows or last - first + 1 != rows:
        raise CommandError(f"{table}: expected {rows} consecutive new ids, got {count} from {first} to {last}")
    return first - 1


def _max_id(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")  # noqa: S608 (a fixed table name)
        return cursor.fetchone()[0]


def build(*, today, accounts: int, contacts: int, days: int, teams: int, collectors: int) -> None:
    """Everything in a handful of INSERT … SELECT statements; ids are consecutive, so rows find each other
    by arithmetic (case n belongs to collector n mod C, collector k to team k mod T)."""
    run = uuid.uuid4().hex[:6]
    now = timezone.now()
    zone = settings.TIME_ZONE
    # No enclosing transaction: each statement commits, so a mistake shows at once, not at a final COMMIT.
    team0 = _insert_rows(
        "accounts_team",
        teams,
        "INSERT INTO accounts_team (name) SELECT 'Bench team ' || %s || '-' || g FROM generate_series(1::bigint, %s) g",
        [run, teams],
    )
    user0 = _insert_rows(
        "accounts_user",
        collectors,
        "INSERT INTO accounts_user (password, is_superuser, username, first_name, last_name, email, is_staff, "
        "is_active, date_joined, role, team_id) SELECT '!', false, 'bench-' || %s || '-' || g, 'Collector', "
        "g::text, '', false, true, now(), 'collector', %s + 1 + (g - 1) %% %s "
        "FROM generate_series(1::bigint, %s) g",
        [run, team0, teams, collectors],
    )
    users = get_user_model().objects
    for n in range(teams):
        supervisor = users.create_user(f"bench-sup-{run}-{n}", role=Role.SUPERVISOR, team_id=team0 + 1 + n)
        Team.objects.filter(pk=team0 + 1 + n).update(supervisor=supervisor)
    if not users.filter(username="bench-admin").exists():
        users.create_user("bench-admin", role=Role.ADMIN)
    debtor0 = _insert_rows(
        "cases_debtor",
        accounts,
        "INSERT INTO cases_debtor (key, full_name, national_id, mobile, email, city, jurisdiction, timezone, "
        "preferred_language, do_not_contact, opt_out_phone, opt_out_sms, opt_out_email, created_at, updated_at) "
        "SELECT 'B' || %s || g, '持卡人' || g, '', '138' || lpad(g::text, 8, '0'), '', '上海', 'CN', %s, "
        "'zh-hans', false, false, false, false, now(), now() FROM generate_series(1::bigint, %s) g",
        [run, zone, accounts],
    )
    account0 = _insert_rows(
        "cases_cardaccount",
        accounts,
        "INSERT INTO cases_cardaccount (debtor_id, external_ref, card_last4, currency, credit_limit, "
        "principal_overdue, interest_overdue, fees_overdue, delinquent_since, status, created_at, updated_at) "
        "SELECT %s + g, 'B' || %s || g, lpad((g %% 10000)::text, 4, '0'), 'CNY', 50000, "
        "1000 + (g * 37) %% 40000, (g * 13) %% 2000, (g %% 4) * 50, "
        "%s::date - (1 + (g * 7) %% 400)::int, 'active', now(), now() FROM generate_series(1::bigint, %s) g",
        [debtor0, run, today, accounts],
    )
    # One case an account; one in seven resolved or closed during the history.
    case0 = _insert_rows(
        "cases_case",
        accounts,
        "INSERT INTO cases_case (account_id, status, classification, bucket, wilful_suggested, wilful_evidence, "
        "wilful_reason, priority, team_id, assigned_to_id, opened_at, closed_at) "
        "SELECT %s + g, CASE WHEN g %% 7 = 0 THEN 'resolved' WHEN g %% 7 = 3 AND g %% 2 = 0 THEN 'closed' "
        "ELSE (ARRAY['notify','first_contact','verification','plan','follow_up'])[1 + g %% 5] END, "
        "(ARRAY['early','mid','wilful'])[1 + (g / 7) %% 3], 'special_mention', false, '[]', '', g %% 1000, "
        "%s + 1 + ((g %% %s) %% %s), %s + 1 + g %% %s, "
        "%s::timestamptz - ((g * 11) %% (%s + 200)) * interval '1 day', "
        "CASE WHEN g %% 7 = 0 OR (g %% 7 = 3 AND g %% 2 = 0) "
        "THEN GREATEST(%s::timestamptz - ((g * 11) %% (%s + 200)) * interval '1 day' + interval '1 hour', "
        "%s::timestamptz - ((g * 3) %% %s) * interval '1 day') END "
        "FROM generate_series(1::bigint, %s) g",
        [account0, team0, collectors, teams, user0, collectors, now, days, now, days, now, days, accounts],
    )
    # Contacts spread over the history, credited to the case's collector.
    _execute(
        "INSERT INTO negotiation_contact (case_id, channel, direction, party, number, outcome, notes, next_step, "
        "at, recorded_by_id, created_at) "
        "SELECT %s + 1 + c, (ARRAY['phone','phone','phone','sms','email'])[1 + g %% 5], 'outbound', 'debtor', "
        "'', (ARRAY['no_answer','right_party_contact','busy','promise_to_pay','no_answer','refused',"
        "'callback_requested','wrong_number','no_answer','hardship_stated'])[1 + (g / 3) %% 10], '', '', "
        "%s::timestamptz - (g %% %s) * interval '1 day' - (g %% 600) * interval '1 minute', "
        "%s + 1 + (c + 1) %% %s, now() "
        "FROM (SELECT g, (g * 7919) %% %s AS c FROM generate_series(1::bigint, %s) g) s",
        [case0, now, days, user0, collectors, accounts, contacts],
    )
    _execute(
        "INSERT INTO negotiation_promise (case_id, amount, due_on, status, judged_at, created_by_id, created_at) "
        "SELECT %s + 1 + c, 100 + g %% 900, (%s::timestamptz - (g %% %s) * interval '1 day')::date + 7, "
        "(ARRAY['kept','broken','partially_kept','pending'])[1 + g %% 4], "
        "CASE WHEN g %% 4 <> 3 THEN %s::timestamptz - (g %% %s) * interval '1 day' + interval '8 days' END, "
        "%s + 1 + (c + 1) %% %s, %s::timestamptz - (g %% %s) * interval '1 day' "
        "FROM (SELECT g, (g * 104729) %% %s AS c FROM generate_series(1::bigint, %s) g) s",
        [case0, now, days, now, days, user0, collectors, now, days, accounts, contacts // 20],
    )
    _execute(
        "INSERT INTO cases_payment (account_id, external_ref, amount, paid_at, to_principal, to_interest, to_fees, "
        "unapplied, days_past_due, created_at) "
        "SELECT %s + 1 + a, 'BP' || %s || g, 100 + g %% 2000, "
        "%s::timestamptz - (g %% %s) * interval '1 day' - (g %% 300) * interval '1 minute', "
        "100 + g %% 2000, 0, 0, 0, 30, now() "
        "FROM (SELECT g, (g * 15485863) %% %s AS a FROM generate_series(1::bigint, %s) g) s",
        [account0, run, now, days, accounts, accounts // 5],
    )
    _execute(
        "INSERT INTO compliance_complaint (case_id, channel, category, description, status, received_at, complex, "
        "extended, due_at, outcome, resolution) "
        "SELECT %s + 1 + (g * 31) %% %s, 'phone', 'contact_frequency', '', 'received', "
        "%s::timestamptz - (g %% %s) * interval '1 day', false, false, "
        "%s::timestamptz + interval '10 days', '', '' "
        "FROM generate_series(1::bigint, %s) g",
        [case0, accounts, now, days, now, max(1, accounts // 1000)],
    )
    policy = ContactPolicy.objects.filter(jurisdiction="CN").order_by("pk").first()
    _execute(
        "INSERT INTO compliance_contactdecision (case_id, channel, party, purpose, at, allowed, reasons, "
        "reason_codes, path, policy_id, asked_by_id, created_at) "
        "SELECT %s + 1 + c, 'phone', 'debtor', 'collection', %s::timestamptz - (g %% %s) * interval '1 day', "
        "false, '[]', '[\"outside_contact_hours\"]', 'web', %s, %s + 1 + (c + 1) %% %s, "
        "%s::timestamptz - (g %% %s) * interval '1 day' "
        "FROM (SELECT g, (g * 7907) %% %s AS c FROM generate_series(1::bigint, %s) g) s",
        [case0, now, days, policy.pk, user0, collectors, now, days, accounts, contacts // 50],
    )
    _execute(
        "INSERT INTO compliance_screeninghit (source, action, case_id, author_id, terms, categories, excerpt, "
        "source_ref, created_at) "
        "SELECT 'note', 'blocked', %s + 1 + c, %s + 1 + (c + 1) %% %s, '[]', '[]', '', '', "
        "%s::timestamptz - (g %% %s) * interval '1 day' "
        "FROM (SELECT g, (g * 613) %% %s AS c FROM generate_series(1::bigint, %s) g) s",
        [case0, user0, collectors, now, days, accounts, max(1, contacts // 1000)],
    )
    _execute(
        "INSERT INTO reporting_portfoliototal (date, accounts, balance, updated_at) "
        "SELECT d::date, %s::bigint * 8, %s::numeric * 8 * 30000, now() "
        "FROM generate_series(%s::date - %s, %s::date, interval '1 day') d ON CONFLICT (date) DO NOTHING",
        [accounts, accounts, today, days, today],
    )
    for table in ("cases_case", "cases_cardaccount", "negotiation_contact", "negotiation_promise", "cases_payment"):
        _execute(f"ANALYZE {table}")
