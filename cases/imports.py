"""Imports from the card system: accounts (an upsert) and payments, from CSV files of any size.

An upload is checked as a whole first (size, encoding, CSV, header), so that a bad file stores nothing,
then queued as a batch that a Celery task applies; `manage.py import_accounts` applies it in the
foreground. Either way one import runs at a time (an advisory lock on PostgreSQL, a file lock
elsewhere), and a batch is applied in one transaction: it ends `done` with every valid row applied, or
`failed` with none of them. Rows are read in chunks of CHUNK_ROWS with a few bulk queries each, so that
memory and time per row stay flat whatever the file's size; only the first ERRORS_KEPT row errors stay
in memory, all of them go to a CSV file kept with the batch."""

import codecs
import csv
import fcntl
import hashlib
import io
import logging
import os
import re
import tempfile
import time as clock
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from functools import cache
from operator import itemgetter
from typing import BinaryIO
from zoneinfo import ZoneInfo, available_timezones

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.validators import validate_email
from django.db import DEFAULT_DB_ALIAS, DatabaseError, IntegrityError, connection, connections, transaction
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User
from cases.identity import is_valid_cn_mobile, is_valid_e164, is_valid_national_id
from cases.models import DEFAULT_TIMEZONE, CardAccount, ContactPerson, Debtor, ImportBatch, Jurisdiction
from cases.services import ErrorCode, cases_open_for_accounts, payment_record
from compliance import audit
from compliance.exports import neutralise_cell
from config.errors import DomainError

logger = logging.getLogger(__name__)

# A chunk's cases open in one statement while it is at most services.OPEN_CHUNK.
CHUNK_ROWS = 5000
# The advisory lock that lets one import run at a time, and the one that serialises the duplicate check
# of uploads (two numbers no other part of Accord uses).
IMPORT_LOCK_KEY = 0x41434301
UPLOAD_LOCK_KEY = 0x41434302
# How often, at most, a running import writes its progress.
PROGRESS_SECONDS = 0.5
BLOCK_BYTES = 1 << 20
# Tried in order when no encoding is named; utf-8-sig also reads UTF-8 without a BOM.
AUTO_ENCODINGS = ("utf-8-sig", "gb18030")

ACCOUNT_REQUIRED = (
    "external_ref",
    "full_name",
    "national_id",
    "mobile",
    "card_last4",
    "credit_limit",
    "principal_overdue",
    "interest_overdue",
    "fees_overdue",
    "delinquent_since",
)
ACCOUNT_COLUMNS = ACCOUNT_REQUIRED + (
    "email",
    "city",
    "jurisdiction",
    "timezone",
    "last_payment_on",
    "guarantor_name",
    "guarantor_mobile",
)
PAYMENT_COLUMNS = ("external_ref", "account_ref", "amount", "paid_at")

DEBTOR_FIELDS = ("full_name", "national_id", "mobile", "email", "city", "jurisdiction", "timezone")
ACCOUNT_FIELDS = (
    "card_last4",
    "credit_limit",
    "principal_overdue",
    "interest_overdue",
    "fees_overdue",
    "delinquent_since",
    "last_payment_on",
)
# What a new row stores besides the file's values: these columns' model defaults, then the two times.
DEBTOR_DEFAULTS = ("preferred_language", "do_not_contact", "opt_out_phone", "opt_out_sms", "opt_out_email")
DEBTOR_INSERT = ("key", *DEBTOR_FIELDS, *DEBTOR_DEFAULTS, "created_at", "updated_at")
ACCOUNT_DEFAULTS = ("currency", "status")
ACCOUNT_INSERT = ("external_ref", "debtor_id", *ACCOUNT_FIELDS, *ACCOUNT_DEFAULTS, "created_at", "updated_at")
_debtor_values = itemgetter(*DEBTOR_FIELDS)
_account_values = itemgetter(*ACCOUNT_FIELDS)
# A date-only paid_at is local midnight in the card issuer's zone (docs/import-format.md).
PAYMENT_DAY_ZONE = ZoneInfo(DEFAULT_TIMEZONE[Jurisdiction.CN])
# Which column a refused payment is reported against.
PAYMENT_REFUSAL_COLUMNS = {
    ErrorCode.UNKNOWN_ACCOUNT: "account_ref",
    ErrorCode.INVALID_AMOUNT: "amount",
    ErrorCode.PAID_IN_FUTURE: "paid_at",
    ErrorCode.DUPLICATE_PAYMENT: "external_ref",
}

GUARANTOR = ContactPerson.Relation.GUARANTOR.value
CN = Jurisdiction.CN.value
JURISDICTIONS = tuple(Jurisdiction.values)
CENT = Decimal("0.01")
MAX_AMOUNT = Decimal("999999999999.99")  # DecimalField(max_digits=14, decimal_places=2)
_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")
_PLAIN_AMOUNT = re.compile(r"^\d{1,12}(\.\d{1,2})?$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_LAST4 = re.compile(r"^\d{4}$")


class FileCode:
    EMPTY = "import_file_empty"
    UNDECODABLE = "import_file_undecodable"
    NOT_CSV = "import_file_not_csv"
    UNKNOWN_ENCODING = "import_unknown_encoding"
    DUPLICATE_COLUMNS = "import_duplicate_columns"
    UNKNOWN_COLUMNS = "import_unknown_columns"
    MISSING_COLUMNS = "import_missing_columns"
    TOO_LARGE = "import_file_too_large"


class ImportFileRefused(DomainError):
    """The file as a whole cannot be imported; nothing of it was stored."""

    code = FileCode.NOT_CSV


class ImportFileTooLarge(ImportFileRefused):
    code = FileCode.TOO_LARGE
    http_status = 413


class ImportBusy(Exception):
    """Another import holds the lock; the job stays queued and is tried again."""


class FailureCode:
    WORKER_LOST = "worker_lost"
    TIME_LIMIT = "time_limit"
    CONFLICT = "conflict"
    DATABASE = "database"
    FILE_MISSING = "file_missing"
    UNEXPECTED = "unexpected"


# Why a batch failed, in the reader's language; the batch keeps only the code.
FAILURE_MESSAGES = {
    FailureCode.WORKER_LOST: gettext_lazy(
        "The worker running the import stopped before it finished (it was killed or restarted). Nothing "
        "of the file was applied; upload it again."
    ),
    FailureCode.TIME_LIMIT: gettext_lazy(
        "The import took longer than the time allowed (IMPORT_TIME_LIMIT). Nothing of the file was applied."
    ),
    FailureCode.CONFLICT: gettext_lazy(
        "A change made to the same accounts at the same time collided with the import. Nothing of the file "
        "was applied; upload it again."
    ),
    FailureCode.DATABASE: gettext_lazy(
        "The database refused the import. Nothing of the file was applied; the worker's log has the details."
    ),
    FailureCode.FILE_MISSING: gettext_lazy("The uploaded file is no longer in storage. Nothing was applied."),
    FailureCode.UNEXPECTED: gettext_lazy(
        "The import stopped on an unexpected error. Nothing of the file was applied; the worker's log has "
        "the details."
    ),
}


def failure_message(code: str) -> str:
    return str(FAILURE_MESSAGES.get(code, FAILURE_MESSAGES[FailureCode.UNEXPECTED])) if code else ""


class _Invalid(Exception):
    """One value breaks its rule; the message is for people."""


class _ErrorSink:
    """Every row error as a line of a CSV file (UTF-8 with BOM, for spreadsheets), formulas neutralised."""

    def __init__(self) -> None:
        self.file = tempfile.TemporaryFile()  # noqa: SIM115 (closed by close())
        self.text = io.TextIOWrapper(self.file, encoding="utf-8-sig", newline="")
        self.writer = csv.writer(self.text)
        self.writer.writerow(["row", "column", "message"])

    def write(self, row: int, column: str, message: str) -> None:
        self.writer.writerow([row, neutralise_cell(str(column)), neutralise_cell(str(message))])

    def finished(self) -> BinaryIO:
        self.text.flush()
        self.file.seek(0)
        return self.file

    def close(self) -> None:
        self.text.close()


@dataclass
class _Tally:
    """What an import has done so far, and what it must remember between chunks (keys only, no rows)."""

    sink: _ErrorSink | None = None
    progress: Callable[[int], None] | None = None
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    error_count: int = 0
    errors: list[dict] = field(default_factory=list)
    refs: dict[str, int] = field(default_factory=dict)
    debtor_keys: set[str] = field(default_factory=set)
    guarantors: set[tuple[str, str]] = field(default_factory=set)

    def reject(self, row: int, column: str, message: str) -> None:
        self.error_count += 1
        if len(self.errors) < ImportBatch.ERRORS_KEPT:
            self.errors.append({"row": row, "column": column, "message": message})
        if self.sink is not None:
            self.sink.write(row, column, message)

    def advance(self) -> None:
        if self.progress is not None:
            self.progress(self.rows)


@dataclass(frozen=True)
class _AccountRow:
    number: int
    external_ref: str
    debtor: dict
    account: dict
    guarantor: tuple[str, str] | None

    @property
    def debtor_key(self) -> str:
        return self.debtor["national_id"] or f"acct:{self.external_ref}"


# --- Public entry points ---------------------------------------------------------------------------

COLUMNS = {ImportBatch.Kind.ACCOUNTS: ACCOUNT_COLUMNS, ImportBatch.Kind.PAYMENTS: PAYMENT_COLUMNS}
REQUIRED = {ImportBatch.Kind.ACCOUNTS: ACCOUNT_REQUIRED, ImportBatch.Kind.PAYMENTS: PAYMENT_COLUMNS}


def import_batch_queue(
    *, kind: str, file: BinaryIO, filename: str, size: int, uploaded_by: User, encoding: str | None = None
) -> tuple[ImportBatch, bool]:
    """Check an upload as a whole (size, encoding, CSV, header), keep it and queue its import.

    The same file again (same SHA-256) queues nothing: the earlier batch is returned, with False, unless
    that one failed. A refused file stores nothing."""
    if size > settings.IMPORT_MAX_BYTES:
        raise ImportFileTooLarge(
            _("The file is %(size)s; an import takes at most %(limit)s.")
            % {"size": filesizeformat(size), "limit": filesizeformat(settings.IMPORT_MAX_BYTES)},
            details={"size": size, "limit": settings.IMPORT_MAX_BYTES},
        )
    sha256, encoding = _inspect(file, encoding)
    _header, total = _check_csv(file, encoding, columns=COLUMNS[kind], required=REQUIRED[kind])
    with transaction.atomic():
        _serialise_uploads()
        earlier = (
            ImportBatch.objects.filter(kind=kind, sha256=sha256)
            .exclude(status=ImportBatch.Status.FAILED)
            .order_by("-queued_at", "-pk")
            .first()
        )
        if earlier is not None:
            return earlier, False
        batch = _batch_create(
            kind=kind,
            file=file,
            filename=filename,
            sha256=sha256,
            encoding=encoding,
            rows_total=total,
            uploaded_by=uploaded_by,
            status=ImportBatch.Status.QUEUED,
        )
        audit.record(
            action=f"import.{kind}.queued",
            actor=uploaded_by,
            target=batch,
            changes={"filename": batch.filename, "sha256": sha256, "rows": total, "bytes": size},
        )
        from cases.tasks import run_import  # the task module imports this one

        run_import.delay_on_commit(batch.pk)
    return batch, True


def import_batch_run(*, batch_id: int, today: date | None = None) -> ImportBatch:
    """Apply a queued batch, once the import lock is free (else ImportBusy, and the batch stays queued).

    A batch found running while the lock is free was cut off with its transaction (a killed worker, whose
    job came back): nothing of it was applied, so it starts again. A finished batch is left alone."""
    with _import_lock(wait=False) as acquired:
        if not acquired:
            raise ImportBusy(batch_id)
        batch = ImportBatch.objects.select_related("uploaded_by").get(pk=batch_id)
        if batch.is_over:
            return batch
        try:
            file = batch.file.open("rb")
        except OSError:
            logger.exception("import batch %s: the stored file cannot be read", batch.pk)
            return _batch_fail(batch, FailureCode.FILE_MISSING)
        with file:
            return _batch_apply(batch, file, today=today or timezone.localdate())


def import_batches_fail_stale() -> int:
    """Mark failed every batch left running by a worker that died: while nobody holds the import lock,
    no batch runs. Its transaction died with it, so nothing of it was applied. Returns how many."""
    with _import_lock(wait=False) as acquired:
        if not acquired:
            return 0
        stale = list(ImportBatch.objects.filter(status=ImportBatch.Status.RUNNING))
        for batch in stale:
            _batch_fail(batch, FailureCode.WORKER_LOST)
    return len(stale)


def import_errors_export(*, batch_id: int, actor: User) -> tuple[ImportBatch, BinaryIO]:
    """The batch's row errors as CSV (all of them, formulas neutralised); the download is audited."""
    batch = ImportBatch.objects.get(pk=batch_id)
    with transaction.atomic():
        audit.record(
            action=f"import.{batch.kind}.errors_exported",
            actor=actor,
            target=batch,
            changes={"errors": batch.error_count},
        )
    if batch.errors_file:
        return batch, batch.errors_file.open("rb")
    sink = _ErrorSink()
    for error in batch.errors:
        sink.write(error["row"], error["column"], error["message"])
    content = sink.finished().read()
    sink.close()
    return batch, io.BytesIO(content)


def accounts_import(
    *,
    file: BinaryIO,
    filename: str,
    uploaded_by: User | None = None,
    encoding: str | None = None,
    today: date | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ImportBatch:
    """Upsert cardholders, accounts and guarantors from an account file (docs/import-format.md) and
    open cases for delinquent accounts, in the foreground. Bad rows are reported; the good ones are
    applied, all in one transaction; `progress(rows_done, rows_total)` is called as it goes."""
    return _import_now(
        kind=ImportBatch.Kind.ACCOUNTS,
        file=file,
        filename=filename,
        uploaded_by=uploaded_by,
        encoding=encoding,
        today=today or timezone.localdate(),
        progress=progress,
    )


def payments_import(
    *,
    file: BinaryIO,
    filename: str,
    uploaded_by: User | None = None,
    encoding: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ImportBatch:
    """Record each row of a payment file through `payment_record`; a replayed payment counts as unchanged."""
    return _import_now(
        kind=ImportBatch.Kind.PAYMENTS,
        file=file,
        filename=filename,
        uploaded_by=uploaded_by,
        encoding=encoding,
        today=timezone.localdate(),
        progress=progress,
    )


def _import_now(
    *,
    kind: str,
    file: BinaryIO,
    filename: str,
    uploaded_by: User | None,
    encoding: str | None,
    today: date,
    progress: Callable[[int, int], None] | None,
) -> ImportBatch:
    """The foreground import: check the file, wait for the lock, apply the batch, whatever its SHA-256."""
    sha256, encoding = _inspect(file, encoding)
    _header, total = _check_csv(file, encoding, columns=COLUMNS[kind], required=REQUIRED[kind])
    with _import_lock(wait=True):
        batch = _batch_create(
            kind=kind,
            file=file,
            filename=filename,
            sha256=sha256,
            encoding=encoding,
            rows_total=total,
            uploaded_by=uploaded_by,
            status=ImportBatch.Status.QUEUED,
        )
        return _batch_apply(
            batch, file, today=today, report=(lambda done: progress(done, total)) if progress else None
        )


# --- One import at a time --------------------------------------------------------------------------


@contextmanager
def _import_lock(*, wait: bool) -> Iterator[bool]:
    """Yield whether this process holds the import lock (waiting for it when asked). On PostgreSQL a
    session advisory lock: the database frees it when the holder's connection ends, killed or not.
    Elsewhere (SQLite, one machine) an flock on a file under VAR_DIR, which the kernel frees with the process."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            if wait:
                cursor.execute("SELECT pg_advisory_lock(%s)", [IMPORT_LOCK_KEY])
                acquired = True
            else:
                cursor.execute("SELECT pg_try_advisory_lock(%s)", [IMPORT_LOCK_KEY])
                acquired = cursor.fetchone()[0]
        try:
            yield acquired
        finally:
            if acquired:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_unlock(%s)", [IMPORT_LOCK_KEY])
        return
    # One lock per database, as PostgreSQL's advisory locks are.
    database = hashlib.sha256(str(connection.settings_dict["NAME"]).encode()).hexdigest()[:16]
    path = settings.VAR_DIR / f"import-{database}.lock"
    with path.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _serialise_uploads() -> None:
    """Inside the upload's transaction: two uploads of one file check for each other one after the other.
    SQLite's write transactions (IMMEDIATE) are serial already."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [UPLOAD_LOCK_KEY])


# --- Reading the file ------------------------------------------------------------------------------


def _blocks(file: BinaryIO) -> Iterator[bytes]:
    file.seek(0)
    while block := file.read(BLOCK_BYTES):
        yield block


def _inspect(file: BinaryIO, encoding: str | None) -> tuple[str, str]:
    """The file's SHA-256 and the encoding it decodes with: the one asked for, else UTF-8 (with or
    without BOM), else GB18030. The card system's exports are often GB18030."""
    if encoding:
        try:
            candidates: tuple[str, ...] = (codecs.lookup(encoding).name,)
        except LookupError:
            raise ImportFileRefused(
                _("“%(encoding)s” is not an encoding this server knows.") % {"encoding": encoding},
                code=FileCode.UNKNOWN_ENCODING,
            ) from None
    else:
        candidates = AUTO_ENCODINGS
    for candidate in candidates:
        digest = hashlib.sha256()
        decoder = codecs.getincrementaldecoder(candidate)()
        first = b""
        try:
            for block in _blocks(file):
                if b"\x00" in block:
                    raise ImportFileRefused(
                        _("This is not a CSV file: it contains binary data."), code=FileCode.NOT_CSV
                    )
                first = first or block
                digest.update(block)
                decoder.decode(block)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        if not first.removeprefix(codecs.BOM_UTF8).strip():
            raise ImportFileRefused(_("The file is empty."), code=FileCode.EMPTY)
        if candidate == "utf-8-sig" and not first.startswith(codecs.BOM_UTF8):
            candidate = "utf-8"
        return digest.hexdigest(), candidate
    raise ImportFileRefused(
        _("The file cannot be decoded as %(encodings)s; save it as UTF-8 or GB18030.")
        % {"encodings": " / ".join(candidates)},
        code=FileCode.UNDECODABLE,
    )


@contextmanager
def _csv_reader(file: BinaryIO, encoding: str) -> Iterator:
    """A csv reader over the decoded file that leaves the file open for the caller."""
    file.seek(0)
    text = io.TextIOWrapper(file, encoding=encoding, newline="")
    try:
        yield csv.reader(text)
    finally:
        text.detach()


def _header(reader) -> list[str]:
    names = next(reader, [])
    if names:
        names[0] = names[0].lstrip("\ufeff")
    return [name.strip().lower() for name in names]


def _check_csv(
    file: BinaryIO, encoding: str, *, columns: tuple[str, ...], required: tuple[str, ...]
) -> tuple[list[str], int]:
    """Parse the whole file once and judge its header; give the header and the number of data rows.

    A file that is not CSV, or whose header repeats a column, names one this import does not know or
    lacks a required one, is refused, naming the columns."""
    rows = 0
    with _csv_reader(file, encoding) as reader:
        try:
            header = _header(reader)
            for record in reader:
                if any(value.strip() for value in record):
                    rows += 1
        except csv.Error as problem:
            raise ImportFileRefused(
                _("This is not a readable CSV file (line %(line)d: %(problem)s).")
                % {"line": reader.line_num, "problem": problem},
                code=FileCode.NOT_CSV,
            ) from None
    if not set(header) & set(columns):
        raise ImportFileRefused(
            _("The first row is not a header with the expected columns (%(columns)s).")
            % {"columns": ", ".join(columns)},
            code=FileCode.NOT_CSV,
        )
    named = [name or _("(blank, column %(number)d)") % {"number": at} for at, name in enumerate(header, start=1)]
    repeated = sorted({name for name in named if named.count(name) > 1})
    if repeated:
        raise ImportFileRefused(
            _("The header has these columns more than once: %(columns)s.") % {"columns": ", ".join(repeated)},
            code=FileCode.DUPLICATE_COLUMNS,
            details={"columns": repeated},
        )
    unknown = [name for name, given in zip(named, header, strict=True) if given not in columns]
    if unknown:
        raise ImportFileRefused(
            _("The header has columns this import does not know: %(columns)s. The known ones are %(known)s.")
            % {"columns": ", ".join(unknown), "known": ", ".join(columns)},
            code=FileCode.UNKNOWN_COLUMNS,
            details={"columns": unknown},
        )
    missing = [name for name in required if name not in header]
    if missing:
        raise ImportFileRefused(
            _("The header lacks these required columns: %(columns)s.") % {"columns": ", ".join(missing)},
            code=FileCode.MISSING_COLUMNS,
            details={"columns": missing},
        )
    return header, rows


def _read_header(file: BinaryIO, encoding: str) -> list[str]:
    with _csv_reader(file, encoding) as reader:
        return _header(reader)


def _records(file: BinaryIO, encoding: str, header: list[str], tally: _Tally) -> Iterator[tuple[int, dict]]:
    """Each non-blank data row as {column: value} with the line it starts on (the header is line 1).
    A row whose field count differs from the header's is reported, not guessed at."""
    with _csv_reader(file, encoding) as reader:
        _header(reader)
        while True:
            number = reader.line_num + 1
            record = next(reader, None)
            if record is None:
                return
            if not any(value.strip() for value in record):
                continue
            tally.rows += 1
            tally.advance()
            if len(record) != len(header):
                tally.reject(
                    number,
                    "",
                    _("The row has %(found)d fields but the header has %(expected)d.")
                    % {"found": len(record), "expected": len(header)},
                )
                continue
            yield number, dict(zip(header, record, strict=True))


# --- Checking values -------------------------------------------------------------------------------


@cache
def _zone_names() -> frozenset[str]:
    return frozenset(available_timezones())


def _text(value: str, limit: int, *, required: bool = True) -> str:
    value = value.strip()
    if required and not value:
        raise _Invalid(_("A value is required."))
    if len(value) > limit:
        raise _Invalid(_("At most %(limit)d characters.") % {"limit": limit})
    return value


def _name(value: str, limit: int) -> str:
    """A person's name, stored exactly as given (spaces and all); only its presence and length are checked."""
    if not value.strip():
        raise _Invalid(_("A value is required."))
    if len(value) > limit:
        raise _Invalid(_("At most %(limit)d characters.") % {"limit": limit})
    return value


def _national_id(value: str, jurisdiction: str) -> str:
    value = value.strip().upper()
    if jurisdiction != CN:
        return _text(value, 32, required=False)
    if not value:
        raise _Invalid(_("A value is required."))
    if not is_valid_national_id(value):
        if len(value) == 18 and value[:17].isdigit():
            raise _Invalid(_("The identity number's check digit is wrong."))
        raise _Invalid(_("An identity number has 18 characters: 17 digits, then a digit or X."))
    return value


def _mobile(value: str, jurisdiction: str) -> str:
    value = value.strip()
    if not value:
        raise _Invalid(_("A value is required."))
    if jurisdiction == CN:
        if not is_valid_cn_mobile(value):
            raise _Invalid(_("A mainland mobile number has 11 digits and starts with 13 to 19."))
    elif not is_valid_e164(value):
        raise _Invalid(_("Outside mainland China a mobile number is written in E.164 form, e.g. +14155550123."))
    return value


def _email(value: str) -> str:
    value = _text(value, 254, required=False)
    if value:
        try:
            validate_email(value)
        except ValidationError:
            raise _Invalid(_("This is not a valid email address.")) from None
    return value


def _jurisdiction(value: str) -> str:
    value = value.strip().upper() or CN
    if value not in JURISDICTIONS:
        raise _Invalid(
            _("Unknown jurisdiction “%(value)s”; use one of %(known)s.")
            % {"value": value, "known": ", ".join(JURISDICTIONS)}
        )
    return value


def _timezone(value: str, jurisdiction: str) -> str:
    value = value.strip() or DEFAULT_TIMEZONE[jurisdiction]
    if value not in _zone_names():
        raise _Invalid(_("“%(value)s” is not an IANA time zone name such as Asia/Shanghai.") % {"value": value})
    return value


def _card_last4(value: str) -> str:
    value = value.strip()
    if not _LAST4.match(value):
        raise _Invalid(_("Give exactly the last four digits of the card."))
    return value


def _amount(value: str) -> Decimal:
    """Yuan as Decimal with at most two decimals; never through float."""
    value = value.strip()
    if _PLAIN_AMOUNT.match(value):  # the common case, already known to be well formed
        return Decimal(value)
    if not value:
        raise _Invalid(_("A value is required."))
    if not _NUMBER.match(value):
        raise _Invalid(_("“%(value)s” is not an amount in yuan such as 1234.56.") % {"value": value})
    amount = Decimal(value)
    if abs(amount) > MAX_AMOUNT:
        raise _Invalid(_("The amount is too large."))
    if amount != amount.quantize(CENT):
        raise _Invalid(_("An amount has at most two decimals (fen): “%(value)s”.") % {"value": value})
    return amount.quantize(CENT)


def _not_negative(value: str) -> Decimal:
    amount = _amount(value)
    if amount < 0:
        raise _Invalid(_("An amount cannot be negative."))
    return amount


def _iso_date(value: str) -> date:
    value = value.strip()
    if not value:
        raise _Invalid(_("A value is required."))
    if not _ISO_DATE.match(value):
        raise _Invalid(_("“%(value)s” is not an ISO date (YYYY-MM-DD).") % {"value": value})
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise _Invalid(_("“%(value)s” is not a real date.") % {"value": value}) from None


def _past_date(value: str, today: date) -> date:
    day = _iso_date(value)
    if day > today:
        raise _Invalid(_("The date %(value)s is in the future.") % {"value": day.isoformat()})
    return day


def _optional_past_date(value: str, today: date) -> date | None:
    return _past_date(value, today) if value.strip() else None


def _paid_at(value: str) -> datetime:
    """An ISO datetime with its offset, or a date meaning local midnight in Asia/Shanghai."""
    value = value.strip()
    if not value:
        raise _Invalid(_("A value is required."))
    if _ISO_DATE.match(value):
        return datetime.combine(_iso_date(value), time.min, tzinfo=PAYMENT_DAY_ZONE)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise _Invalid(
            _("“%(value)s” is not an ISO date-time such as 2026-03-01T10:30:00+08:00.") % {"value": value}
        ) from None
    if moment.tzinfo is None:
        raise _Invalid(_("A payment time needs its UTC offset, e.g. +08:00."))
    return moment


def _checker(values: dict[str, str], number: int, tally: _Tally) -> Callable:
    """check(column, rule, *args): the rule's value for the column, or None with the failure reported."""

    def check(column: str, rule: Callable, *args, **options):
        try:
            return rule(values.get(column, ""), *args, **options)
        except _Invalid as invalid:
            tally.reject(number, column, str(invalid))
            return None

    return check


# --- Accounts --------------------------------------------------------------------------------------


def _account_row(number: int, values: dict[str, str], today: date, tally: _Tally) -> _AccountRow | None:
    """Check every value of one row; report each failure, and give the row only when all pass."""
    before = tally.error_count
    check = _checker(values, number, tally)
    external_ref = check("external_ref", _text, 40)
    full_name = check("full_name", _name, 100)
    jurisdiction = check("jurisdiction", _jurisdiction)
    national_id = mobile = zone = None
    if jurisdiction is not None:  # the rules for these depend on it
        national_id = check("national_id", _national_id, jurisdiction)
        mobile = check("mobile", _mobile, jurisdiction)
        zone = check("timezone", _timezone, jurisdiction)
    email = check("email", _email)
    city = check("city", _text, 50, required=False)
    card_last4 = check("card_last4", _card_last4)
    credit_limit = check("credit_limit", _not_negative)
    principal_overdue = check("principal_overdue", _not_negative)
    interest_overdue = check("interest_overdue", _not_negative)
    fees_overdue = check("fees_overdue", _not_negative)
    delinquent_since = check("delinquent_since", _past_date, today)
    last_payment_on = check("last_payment_on", _optional_past_date, today)
    guarantor = _guarantor(number, values, jurisdiction, tally)

    if tally.error_count > before:
        return None
    if external_ref in tally.refs:
        message = _("The account %(ref)s already appears in row %(row)d.")
        tally.reject(number, "external_ref", message % {"ref": external_ref, "row": tally.refs[external_ref]})
        return None
    tally.refs[external_ref] = number
    return _AccountRow(
        number=number,
        external_ref=external_ref,
        debtor={
            "full_name": full_name,
            "national_id": national_id,
            "mobile": mobile,
            "email": email,
            "city": city,
            "jurisdiction": jurisdiction,
            "timezone": zone,
        },
        account={
            "card_last4": card_last4,
            "credit_limit": credit_limit,
            "principal_overdue": principal_overdue,
            "interest_overdue": interest_overdue,
            "fees_overdue": fees_overdue,
            "delinquent_since": delinquent_since,
            "last_payment_on": last_payment_on,
        },
        guarantor=guarantor,
    )


def _guarantor(number: int, values: dict[str, str], jurisdiction: str | None, tally: _Tally) -> tuple | None:
    """A guarantor needs both a name and a mobile that is valid for the cardholder's jurisdiction."""
    name = values.get("guarantor_name", "")
    mobile = values.get("guarantor_mobile", "")
    if not name.strip() and not mobile.strip():
        return None
    if not name.strip():
        tally.reject(number, "guarantor_name", _("A guarantor needs a name as well as a mobile number."))
        return None
    if not mobile.strip():
        tally.reject(number, "guarantor_mobile", _("A guarantor needs a mobile number as well as a name."))
        return None
    check = _checker(values, number, tally)
    name = check("guarantor_name", _name, 100)
    mobile = check("guarantor_mobile", _mobile, jurisdiction) if jurisdiction is not None else None
    return (name, mobile) if name is not None and mobile is not None else None


def _accounts_apply(rows: list[_AccountRow], tally: _Tally, today: date) -> None:
    """Upsert one chunk in one transaction: three reads, then multi-row writes, then open the cases.

    The first row of the file for a cardholder gives that cardholder's details; later rows of the
    same person only link their account, so a file applied twice gives the same answer twice."""
    # As text, once: str() of an aware datetime costs microseconds, and each new row has two of them.
    now = str(connection.ops.adapt_datetimefield_value(timezone.now()))
    debtor_defaults = _defaults(Debtor, DEBTOR_DEFAULTS)
    account_defaults = _defaults(CardAccount, ACCOUNT_DEFAULTS)
    with transaction.atomic():
        debtors = _stored(Debtor, "key", {row.debtor_key for row in rows}, DEBTOR_FIELDS)
        accounts = _stored(
            CardAccount, "external_ref", [row.external_ref for row in rows], ("debtor_id", *ACCOUNT_FIELDS)
        )
        debtor_ids = {key: pk for key, (pk, _values) in debtors.items()}
        guarantors = {
            (debtor_id, mobile): (pk, name)
            for debtor_id, mobile, pk, name in ContactPerson.objects.filter(
                debtor_id__in=debtor_ids.values(), relation=GUARANTOR
            ).values_list("debtor_id", "mobile", "pk", "name")
        }
        changed: set[int] = set()

        new_debtors, dirty_debtors = [], []
        for row in rows:
            if row.debtor_key in tally.debtor_keys:
                continue
            tally.debtor_keys.add(row.debtor_key)
            values = _debtor_values(row.debtor)
            stored = debtors.get(row.debtor_key)
            if stored is None:
                new_debtors.append((row.debtor_key, *values, *debtor_defaults, now, now))
            elif stored[1] != values:
                dirty_debtors.append((*values, now, stored[0]))
                changed.add(row.number)
        debtor_ids |= _insert(Debtor, DEBTOR_INSERT, new_debtors, key="key")
        _update(Debtor, (*DEBTOR_FIELDS, "updated_at"), dirty_debtors)

        new_accounts, dirty_accounts = [], []
        for row in rows:
            values = (debtor_ids[row.debtor_key], *_account_values(row.account))
            stored = accounts.get(row.external_ref)
            if stored is None:
                new_accounts.append((row.external_ref, *values, *account_defaults, now, now))
            elif stored[1] != values:
                dirty_accounts.append((*values, now, stored[0]))
                changed.add(row.number)
        created = _insert(CardAccount, ACCOUNT_INSERT, new_accounts, key="external_ref")
        _update(CardAccount, ("debtor_id", *ACCOUNT_FIELDS, "updated_at"), dirty_accounts)

        new_guarantors, dirty_guarantors = [], []
        for row in rows:
            if row.guarantor is None or (row.debtor_key, row.guarantor[1]) in tally.guarantors:
                continue
            tally.guarantors.add((row.debtor_key, row.guarantor[1]))
            name, mobile = row.guarantor
            debtor_id = debtor_ids[row.debtor_key]
            stored = guarantors.get((debtor_id, mobile))
            if stored is None:
                new_guarantors.append((debtor_id, name, mobile, GUARANTOR))
                changed.add(row.number)
            elif stored[1] != name:
                dirty_guarantors.append((name, stored[0]))
                changed.add(row.number)
        _insert(ContactPerson, ("debtor_id", "name", "mobile", "relation"), new_guarantors)
        _update(ContactPerson, ("name",), dirty_guarantors)

        touched = set(created.values())
        for row in rows:
            if row.external_ref in created:
                tally.created += 1
            elif row.number in changed:
                tally.updated += 1
                touched.add(accounts[row.external_ref][0])
            else:
                tally.unchanged += 1
        # Only accounts this file created or changed: a row that changes nothing must not even open a case.
        cases_open_for_accounts(account_ids=sorted(touched), today=today)


# bulk_create and bulk_update cost some 10 µs of Python per value, most of an import's time at 100,000
# rows. These helpers hand the driver values it takes as they are (str, int, Decimal, date, bool, None;
# a datetime is given as the text of connection.ops.adapt_datetimefield_value), and read tuples, not models.


def _stored(model, key: str, keys, names: tuple[str, ...]) -> dict:
    """{key: (pk, (values of names))} of the rows already stored."""
    return {
        stored[0]: (stored[1], stored[2:])
        for stored in model.objects.filter(**{f"{key}__in": keys}).values_list(key, "pk", *names)
    }


def _defaults(model, names: tuple[str, ...]) -> tuple:
    return tuple(model._meta.get_field(name).get_default() for name in names)


def _insert(model, names: tuple[str, ...], rows: list[tuple], *, key: str | None = None) -> dict:
    """Store new rows, each the values of `names` in that order; {value of `key`: pk} of them when asked.

    PostgreSQL takes them by COPY, several times faster than a multi-row INSERT; COPY returns nothing, so
    their ids are drawn from the table's sequence first. Elsewhere (SQLite 3.35+) multi-row INSERTs
    return them, as many rows per statement as the database's parameter limit allows."""
    if not rows:
        return {}
    meta, quote = model._meta, connection.ops.quote_name
    fields = [meta.get_field(name) for name in names]
    # Only quoted table and column names are formatted into the SQL; every value is data.
    table, columns = quote(meta.db_table), ", ".join(quote(field.column) for field in fields)
    at = names.index(key) if key else None
    new = {}
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [table, meta.pk.column, len(rows)],
            )
            pks = [pk for (pk,) in cursor.fetchall()]
            text = "".join("\t".join(map(_copy_text, (pk, *row))) + "\n" for pk, row in zip(pks, rows, strict=True))
            cursor.copy_expert(f"COPY {table} ({quote(meta.pk.column)}, {columns}) FROM STDIN", io.StringIO(text))
            return {row[at]: pk for pk, row in zip(pks, rows, strict=True)} if key else {}
        per_statement = connection.ops.bulk_batch_size(fields, rows)
        one = f"({', '.join(['%s'] * len(fields))})"
        returning = f" RETURNING {quote(fields[at].column)}, {quote(meta.pk.column)}" if key else ""
        for start in range(0, len(rows), per_statement):
            batch = rows[start : start + per_statement]
            cursor.execute(
                f"INSERT INTO {table} ({columns}) VALUES {', '.join([one] * len(batch))}{returning}",  # noqa: S608
                [value for row in batch for value in row],
            )
            if key:
                new.update(cursor.fetchall())
    return new


# COPY's text format: tab between columns, newline after a row, \N for NULL, and a backslash escape for
# each of these characters inside a value (a name is stored exactly as given, tabs and all).
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_text(value) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, str):
        return value.translate(_COPY_ESCAPES)
    return str(value)  # an int, Decimal, date or bool reads back as itself


def _update(model, names: tuple[str, ...], rows: list[tuple]) -> None:
    """Update rows by primary key, each the values of `names` and then the pk: on PostgreSQL in one
    UPDATE … FROM (VALUES …), since its driver runs an executemany as one round trip per row;
    elsewhere (SQLite, in process) by executemany."""
    if not rows:
        return
    quote = connection.ops.quote_name
    table, pk = quote(model._meta.db_table), quote(model._meta.pk.column)
    fields = [model._meta.get_field(name) for name in names]
    with connection.cursor() as cursor:
        if connection.vendor != "postgresql":
            assignments = ", ".join(f"{quote(field.column)} = %s" for field in fields)
            cursor.executemany(f"UPDATE {table} SET {assignments} WHERE {pk} = %s", rows)  # noqa: S608
            return
        # Each value is cast to its column's type: a VALUES column of strings or NULLs is text.
        assignments = ", ".join(
            f"{quote(field.column)} = new.{quote(field.column)}::{field.cast_db_type(connection)}" for field in fields
        )
        one = f"({', '.join(['%s'] * (len(fields) + 1))})"
        columns = ", ".join(quote(field.column) for field in fields)
        cursor.execute(
            f"UPDATE {table} SET {assignments} FROM (VALUES {', '.join([one] * len(rows))}) "  # noqa: S608
            f"AS new ({columns}, pk) WHERE {table}.{pk} = new.pk",
            [value for row in rows for value in row],
        )


# --- Payments --------------------------------------------------------------------------------------


def _payment_row(number: int, values: dict[str, str], tally: _Tally, *, actor: User | None) -> None:
    before = tally.error_count
    check = _checker(values, number, tally)
    external_ref = check("external_ref", _text, 64)
    account_ref = check("account_ref", _text, 40)
    amount = check("amount", _amount)
    paid_at = check("paid_at", _paid_at)
    if tally.error_count > before:
        return
    try:
        result = payment_record(
            account_ref=account_ref, amount=amount, paid_at=paid_at, external_ref=external_ref, actor=actor
        )
    except DomainError as refused:
        tally.reject(number, PAYMENT_REFUSAL_COLUMNS.get(refused.code, ""), refused.message)
        return
    if result.created:
        tally.created += 1
    else:
        tally.unchanged += 1


# --- The batch -------------------------------------------------------------------------------------


def _batch_create(
    *,
    kind: str,
    file: BinaryIO,
    filename: str,
    sha256: str,
    encoding: str,
    rows_total: int,
    uploaded_by: User | None,
    status: str,
) -> ImportBatch:
    """Keep the file in a batch before any row is applied, so that every change traces back to it."""
    batch = ImportBatch(
        kind=kind,
        status=status,
        filename=filename[:255],
        sha256=sha256,
        encoding=encoding,
        rows_total=rows_total,
        uploaded_by=uploaded_by,
    )
    file.seek(0)
    batch.file.save(os.path.basename(filename) or f"{kind}.csv", File(file), save=True)
    return batch


def _batch_apply(
    batch: ImportBatch, file: BinaryIO, *, today: date, report: Callable[[int], None] | None = None
) -> ImportBatch:
    """Run a batch while holding the import lock: mark it running, then apply every row and finish it in
    one transaction. Whatever stops it rolls all of it back and leaves the batch failed, with the reason."""
    batch.status = ImportBatch.Status.RUNNING
    batch.started_at = timezone.now()
    batch.rows = 0
    batch.save(update_fields=["status", "started_at", "rows"])
    progress = _ProgressWriter(batch.pk, report)
    sink = _ErrorSink()
    tally = _Tally(sink=sink, progress=progress)
    try:
        header = _read_header(file, batch.encoding)
        with transaction.atomic():
            if batch.kind == ImportBatch.Kind.ACCOUNTS:
                _accounts_rows(file, batch.encoding, header, tally, today)
            else:
                for number, values in _records(file, batch.encoding, header, tally):
                    _payment_row(number, values, tally, actor=batch.uploaded_by)
            progress.close()
            _batch_finish(batch, tally, sink)
    except Exception as problem:  # whatever it was, the transaction is gone: the batch failed as a whole
        code = _failure_code(problem)
        logger.exception("import batch %s failed (%s)", batch.pk, code)
        return _batch_fail(batch, code)
    finally:
        progress.close()
        sink.close()
    return batch


def _accounts_rows(file: BinaryIO, encoding: str, header: list[str], tally: _Tally, today: date) -> None:
    chunk: list[_AccountRow] = []
    for number, values in _records(file, encoding, header, tally):
        row = _account_row(number, values, today, tally)
        if row is None:
            continue
        chunk.append(row)
        if len(chunk) == CHUNK_ROWS:
            _accounts_apply(chunk, tally, today)
            chunk = []
    if chunk:
        _accounts_apply(chunk, tally, today)


def _failure_code(problem: BaseException) -> str:
    if isinstance(problem, SoftTimeLimitExceeded):
        return FailureCode.TIME_LIMIT
    if isinstance(problem, IntegrityError):
        return FailureCode.CONFLICT
    if isinstance(problem, DatabaseError):
        return FailureCode.DATABASE
    if isinstance(problem, OSError):
        return FailureCode.FILE_MISSING
    return FailureCode.UNEXPECTED


def _batch_finish(batch: ImportBatch, tally: _Tally, sink: _ErrorSink) -> None:
    """Inside the batch's transaction: its counts, its errors (the first ERRORS_KEPT, and the file of all)."""
    batch.status = ImportBatch.Status.DONE
    batch.rows = tally.rows
    batch.created = tally.created
    batch.updated = tally.updated
    batch.unchanged = tally.unchanged
    batch.error_count = tally.error_count
    batch.errors = tally.errors
    batch.finished_at = timezone.now()
    if tally.error_count:
        batch.errors_file.save(f"batch-{batch.pk}-errors.csv", File(sink.finished()), save=False)
    batch.save(
        update_fields=[
            "status",
            "rows",
            "created",
            "updated",
            "unchanged",
            "error_count",
            "errors",
            "errors_file",
            "finished_at",
        ]
    )
    audit.record(
        action=f"import.{batch.kind}",
        actor=batch.uploaded_by,
        target=batch,
        changes={
            "filename": batch.filename,
            "sha256": batch.sha256,
            "rows": tally.rows,
            "created": tally.created,
            "updated": tally.updated,
            "unchanged": tally.unchanged,
            "errors": tally.error_count,
        },
    )


def _batch_fail(batch: ImportBatch, code: str) -> ImportBatch:
    with transaction.atomic():
        ImportBatch.objects.filter(pk=batch.pk).update(
            status=ImportBatch.Status.FAILED, failure_code=code, finished_at=timezone.now(), rows=0
        )
        audit.record(
            action=f"import.{batch.kind}.failed",
            actor=None,
            target=batch,
            changes={"filename": batch.filename, "sha256": batch.sha256, "failure": code},
        )
    batch.refresh_from_db()
    return batch


class _ProgressWriter:
    """Rows done, written at most every PROGRESS_SECONDS while the batch's own transaction is open. On
    PostgreSQL through a second connection of its own, so readers see it at once; SQLite allows a single
    writer, so there only the foreground report (the command's progress bar) hears of it."""

    def __init__(self, batch_id: int, report: Callable[[int], None] | None) -> None:
        self.batch_id = batch_id
        self.report = report
        self.last = 0.0
        self.side = None
        if connection.vendor == "postgresql":
            own = connections[DEFAULT_DB_ALIAS]
            self.side = type(own)(own.settings_dict.copy(), alias="import-progress")

    def __call__(self, rows: int) -> None:
        now = clock.monotonic()
        if now - self.last < PROGRESS_SECONDS:
            return
        self.last = now
        if self.report is not None:
            self.report(rows)
        if self.side is not None:
            with self.side.cursor() as cursor:
                cursor.execute(
                    f"UPDATE {connection.ops.quote_name(ImportBatch._meta.db_table)} SET rows = %s WHERE id = %s",  # noqa: S608
                    [rows, self.batch_id],
                )

    def close(self) -> None:
        if self.side is not None:
            self.side.close()
            self.side = None
