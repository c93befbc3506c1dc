import csv
import random
import tempfile
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

from django.core.management.base import BaseCommand
from django.db import connection
from django.test.utils import override_settings
from django.utils import timezone

from cases.identity import national_id_check_char
from cases.imports import ACCOUNT_COLUMNS, accounts_import

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英"
CITIES = ("上海", "北京", "广州", "深圳", "杭州", "南京", "成都", "武汉", "西安", "重庆")


class Command(BaseCommand):
    help = (
        "Time the account import on N generated rows, then the re-import of the same file (all unchanged). "
        "It writes N cardholders, accounts and cases into the configured database: use a scratch one."
    )

    def add_arguments(self, parser):
        parser.add_argument("--rows", type=int, default=100_000)

    def handle(self, *args, rows: int, **options):
        run = uuid.uuid4().hex[:6].upper()  # fresh references, so the first pass really creates
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "accounts.csv"
            write_accounts(path, rows=rows, run=run, today=timezone.localdate())
            self.stdout.write(
                f"{rows} rows ({path.stat().st_size / 1e6:.1f} MB) into {connection.vendor} "
                f"{connection.settings_dict['NAME']}, references B{run}…"
            )
            for label in ("first import", "re-import"):
                started = time.perf_counter()
                # As in production: with DEBUG on, Django also logs (and on SQLite re-quotes) every statement.
                with path.open("rb") as handle, override_settings(DEBUG=False):
                    batch = accounts_import(file=handle, filename=path.name)
                seconds = time.perf_counter() - started
                self.stdout.write(
                    f"{label}: {seconds:.2f} s, {rows / seconds:,.0f} rows/s "
                    f"(created {batch.created}, updated {batch.updated}, unchanged {batch.unchanged}, "
                    f"errors {len(batch.errors)})"
                )


def write_accounts(path: Path, *, rows: int, run: str, today: date) -> None:
    """Valid rows with made-up people: unique identity numbers with correct check digits."""
    rng = random.Random(run)
    region = rng.randint(110000, 659999)
    born = date(1960, 1, 1)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=ACCOUNT_COLUMNS)
        writer.writeheader()
        for n in range(rows):
            first17 = f"{region}{born + timedelta(days=n // 1000):%Y%m%d}{n % 1000:03d}"
            delinquent_since = today - timedelta(days=rng.randint(1, 400))
            limit = rng.randint(10, 200) * 1000
            guarantor = n % 7 == 0
            writer.writerow(
                {
                    "external_ref": f"B{run}{n:09d}",
                    "full_name": rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.randint(1, 2))),
                    "national_id": first17 + national_id_check_char(first17),
                    "mobile": f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}",
                    "email": f"holder{n}@example.com" if n % 3 == 0 else "",
                    "city": rng.choice(CITIES),
                    "jurisdiction": "CN",
                    "timezone": "",
                    "card_last4": f"{rng.randrange(10000):04d}",
                    "credit_limit": f"{limit}.00",
                    "principal_overdue": f"{rng.randint(100, limit * 100 - 1) / 100:.2f}",
                    "interest_overdue": f"{rng.randint(0, 2_000_000) / 100:.2f}",
                    "fees_overdue": rng.choice(("0.00", "50.00", "120.00", "300.00")),
                    "delinquent_since": delinquent_since.isoformat(),
                    "last_payment_on": (delinquent_since - timedelta(days=rng.randint(1, 60))).isoformat()
                    if n % 2
                    else "",
                    "guarantor_name": rng.choice(SURNAMES) + rng.choice(GIVEN) if guarantor else "",
                    "guarantor_mobile": f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}" if guarantor else "",
                }
            )
