"""Imports from the card system: accounts (an upsert) and payments, from CSV files of any size.

A file is read twice. The first pass hashes it and proves that it decodes and parses, so that a bad
file stores nothing; the second applies it in chunks of CHUNK_ROWS rows, one transaction and a few
bulk queries per chunk, so that memory and time per row stay flat whatever the file's size."""

import codecs
import csv
import hashlib
import io
import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from functools import cache
from typing import BinaryIO
from zoneinfo import ZoneInfo, available_timezones

from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from cases.identity import is_valid_cn_mobile, is_valid_e164, is_valid_national_id
from cases.models import DEFAULT_TIMEZONE, CardAccount, ContactPerson, Debtor, ImportBatch, Jurisdiction
from cases.services import ErrorCode, cases_open_for_accounts, payment_record
from compliance import audit
from config.errors import DomainError

CHUNK_ROWS = 2000
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
# A date-only paid_at is local midnight in the card issuer's zone (DESIGN.md §5).
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


class ImportFileRefused(DomainError):
    """The file as a whole cannot be imported; nothing of it was stored."""

    code = FileCode.NOT_CSV


class _Invalid(Exception):
    """One value breaks its rule; the message is for people."""


@dataclass
class _Tally:
    """What an import has done so far, and what it must remember between chunks (keys only, no rows)."""

    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[dict] = field(default_factory=list)
    refs: dict[str, int] = field(default_factory=dict)
    debtor_keys: set[str] = field(default_factory=set)
    guarantors: set[tuple[str, str]] = field(default_factory=set)

    def reject(self, row: int, column: str, message: str) -> None:
        self.errors.append({"row": row, "column": column, "message": message})


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


def accounts_import(
    *,
    file: BinaryIO,
    filename: str,
    uploaded_by: User | None = None,
    encoding: str | None = None,
    today: date | None = None,
) -> ImportBatch:
    """Upsert cardholders, accounts and guarantors from an account file (shared/samples/README.md) and
    open cases for delinquent accounts. Bad rows are reported; the good ones are applied."""
    today = today or timezone.localdate()
    sha256, encoding = _inspect(file, encoding)
    header = _check_csv(file, encoding, expected=ACCOUNT_COLUMNS)
    batch = _batch_start(
        kind=ImportBatch.Kind.ACCOUNTS,
        file=file,
        filename=filename,
        sha256=sha256,
        encoding=encoding,
        uploaded_by=uploaded_by,
    )
    tally = _Tally()
    if _has_columns(header, ACCOUNT_REQUIRED, tally):
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
    return _batch_finish(batch, tally, action="import.accounts", actor=uploaded_by)


def payments_import(
    *, file: BinaryIO, filename: str, uploaded_by: User | None = None, encoding: str | None = None
) -> ImportBatch:
    """Record each row of a payment file through `payment_record`; a replayed payment counts as unchanged."""
    sha256, encoding = _inspect(file, encoding)
    header = _check_csv(file, encoding, expected=PAYMENT_COLUMNS)
    batch = _batch_start(
        kind=ImportBatch.Kind.PAYMENTS,
        file=file,
        filename=filename,
        sha256=sha256,
        encoding=encoding,
        uploaded_by=uploaded_by,
    )
    tally = _Tally()
    if _has_columns(header, PAYMENT_COLUMNS, tally):
        for number, values in _records(file, encoding, header, tally):
            _payment_row(number, values, tally, actor=uploaded_by)
    return _batch_finish(batch, tally, action="import.payments", actor=uploaded_by)


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


def _check_csv(file: BinaryIO, encoding: str, *, expected: tuple[str, ...]) -> list[str]:
    """Parse the whole file once; a file that is not CSV, or has none of the expected columns, is refused."""
    with _csv_reader(file, encoding) as reader:
        try:
            header = _header(reader)
            for _record in reader:
                pass
        except csv.Error as problem:
            raise ImportFileRefused(
                _("This is not a readable CSV file (line %(line)d: %(problem)s).")
                % {"line": reader.line_num, "problem": problem},
                code=FileCode.NOT_CSV,
            ) from None
    if not set(header) & set(expected):
        raise ImportFileRefused(
            _("The first row is not a header with the expected columns (%(columns)s).")
            % {"columns": ", ".join(expected)},
            code=FileCode.NOT_CSV,
        )
    return header


def _has_columns(header: list[str], required: tuple[str, ...], tally: _Tally) -> bool:
    """Report each required column the header lacks, at row 1; no row is read without all of them."""
    missing = [column for column in required if column not in header]
    for column in missing:
        tally.reject(1, column, _("The header lacks the required column “%(column)s”.") % {"column": column})
    return not missing


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
    before = len(tally.errors)
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

    if len(tally.errors) > before:
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


def _assign(instance, values: dict) -> bool:
    """Set the values that differ; says whether any did, which is how a row counts as unchanged."""
    changed = False
    for name, value in values.items():
        if getattr(instance, name) != value:
            setattr(instance, name, value)
            changed = True
    return changed


def _accounts_apply(rows: list[_AccountRow], tally: _Tally, today: date) -> None:
    """Upsert one chunk in one transaction: three reads, then bulk writes, then open the cases.

    The first row of the file for a cardholder gives that cardholder's details; later rows of the
    same person only link their account, so a file applied twice gives the same answer twice."""
    now = timezone.now()
    with transaction.atomic():
        debtors = Debtor.objects.in_bulk({row.debtor_key for row in rows}, field_name="key")
        accounts = CardAccount.objects.in_bulk([row.external_ref for row in rows], field_name="external_ref")
        guarantors = {
            (person.debtor_id, person.mobile): person
            for person in ContactPerson.objects.filter(
                debtor_id__in=[debtor.pk for debtor in debtors.values()], relation=GUARANTOR
            )
        }
        changed: set[int] = set()

        new_debtors, dirty_debtors = [], []
        for row in rows:
            if row.debtor_key in tally.debtor_keys:
                continue
            tally.debtor_keys.add(row.debtor_key)
            debtor = debtors.get(row.debtor_key)
            if debtor is None:
                debtors[row.debtor_key] = debtor = Debtor(key=row.debtor_key, **row.debtor)
                new_debtors.append(debtor)
            elif _assign(debtor, row.debtor):
                debtor.updated_at = now
                dirty_debtors.append(debtor)
                changed.add(row.number)
        Debtor.objects.bulk_create(new_debtors)
        Debtor.objects.bulk_update(dirty_debtors, [*DEBTOR_FIELDS, "updated_at"])

        new_accounts, dirty_accounts = [], []
        for row in rows:
            debtor = debtors[row.debtor_key]
            account = accounts.get(row.external_ref)
            if account is None:
                account = CardAccount(external_ref=row.external_ref, debtor=debtor, **row.account)
                new_accounts.append(account)
                accounts[row.external_ref] = account
            elif _assign(account, {"debtor_id": debtor.pk, **row.account}):
                account.updated_at = now
                dirty_accounts.append(account)
                changed.add(row.number)
        CardAccount.objects.bulk_create(new_accounts)
        CardAccount.objects.bulk_update(dirty_accounts, ["debtor_id", *ACCOUNT_FIELDS, "updated_at"])

        new_guarantors, dirty_guarantors = [], []
        for row in rows:
            if row.guarantor is None or (row.debtor_key, row.guarantor[1]) in tally.guarantors:
                continue
            tally.guarantors.add((row.debtor_key, row.guarantor[1]))
            name, mobile = row.guarantor
            debtor_id = debtors[row.debtor_key].pk
            person = guarantors.get((debtor_id, mobile))
            if person is None:
                new_guarantors.append(ContactPerson(debtor_id=debtor_id, name=name, mobile=mobile, relation=GUARANTOR))
                changed.add(row.number)
            elif person.name != name:
                person.name = name
                dirty_guarantors.append(person)
                changed.add(row.number)
        ContactPerson.objects.bulk_create(new_guarantors)
        ContactPerson.objects.bulk_update(dirty_guarantors, ["name"])

        created = {account.external_ref for account in new_accounts}
        touched = [account.pk for account in new_accounts + dirty_accounts]
        for row in rows:
            if row.external_ref in created:
                tally.created += 1
            elif row.number in changed:
                tally.updated += 1
                touched.append(accounts[row.external_ref].pk)
            else:
                tally.unchanged += 1
        # Only accounts this file created or changed: a row that changes nothing must not even open a case.
        cases_open_for_accounts(account_ids=set(touched), today=today)


# --- Payments --------------------------------------------------------------------------------------


def _payment_row(number: int, values: dict[str, str], tally: _Tally, *, actor: User | None) -> None:
    before = len(tally.errors)
    check = _checker(values, number, tally)
    external_ref = check("external_ref", _text, 64)
    account_ref = check("account_ref", _text, 40)
    amount = check("amount", _amount)
    paid_at = check("paid_at", _paid_at)
    if len(tally.errors) > before:
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


def _batch_start(
    *, kind: str, file: BinaryIO, filename: str, sha256: str, encoding: str, uploaded_by: User | None
) -> ImportBatch:
    """Keep the file in a batch before any row is applied, so that every change traces back to it."""
    batch = ImportBatch(
        kind=kind, filename=filename[:255], sha256=sha256, encoding=encoding, uploaded_by=uploaded_by
    )
    file.seek(0)
    batch.file.save(os.path.basename(filename) or f"{kind}.csv", File(file), save=True)
    return batch


def _batch_finish(batch: ImportBatch, tally: _Tally, *, action: str, actor: User | None) -> ImportBatch:
    batch.rows = tally.rows
    batch.created = tally.created
    batch.updated = tally.updated
    batch.unchanged = tally.unchanged
    batch.errors = tally.errors
    batch.finished_at = timezone.now()
    with transaction.atomic():
        batch.save(update_fields=["rows", "created", "updated", "unchanged", "errors", "finished_at"])
        audit.record(
            action=action,
            actor=actor,
            target=batch,
            changes={
                "filename": batch.filename,
                "sha256": batch.sha256,
                "rows": tally.rows,
                "created": tally.created,
                "updated": tally.updated,
                "unchanged": tally.unchanged,
                "errors": len(tally.errors),
            },
        )
    return batch
