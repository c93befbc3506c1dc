"""The account import (docs/import-format.md): the service, `manage.py import_accounts` and the upload API."""

import csv
import io
import json
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, connections
from django.template.defaultfilters import filesizeformat
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from cases import imports
from cases.imports import (
    FileCode,
    ImportBusy,
    ImportFileRefused,
    accounts_import,
    import_batch_queue,
    import_batch_run,
    import_batches_fail_stale,
)
from cases.models import CardAccount, Case, CaseStatus, ContactPerson, Debtor, ImportBatch
from compliance.models import AuditEvent
from tests.factories import UserFactory, make_national_id

SAMPLE = Path(__file__).parent / "data" / "accounts.csv"
URL = "/api/v1/imports/accounts/"
HEADER = [
    "external_ref",
    "full_name",
    "national_id",
    "mobile",
    "email",
    "city",
    "jurisdiction",
    "timezone",
    "card_last4",
    "credit_limit",
    "principal_overdue",
    "interest_overdue",
    "fees_overdue",
    "delinquent_since",
    "last_payment_on",
    "guarantor_name",
    "guarantor_mobile",
]


def account_row(n: int, **values) -> dict:
    """A valid row; keyword arguments replace single values."""
    row = {
        "external_ref": f"T{n:08d}",
        "full_name": "王芳",
        "national_id": make_national_id(n),
        "mobile": f"139{n:08d}",
        "email": f"holder{n}@example.com",
        "city": "上海",
        "jurisdiction": "CN",
        "timezone": "",
        "card_last4": "4321",
        "credit_limit": "50000.00",
        "principal_overdue": "8000.00",
        "interest_overdue": "600.00",
        "fees_overdue": "100.00",
        "delinquent_since": (timezone.localdate() - timedelta(days=20)).isoformat(),
        "last_payment_on": "",
        "guarantor_name": "",
        "guarantor_mobile": "",
    }
    row.update(values)
    return row


def csv_bytes(rows: list[dict], *, header: list[str] = HEADER, encoding: str = "utf-8") -> bytes:
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=header, extrasaction="ignore", lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return text.getvalue().encode(encoding)


def run_import(rows: list[dict], **options) -> ImportBatch:
    with translation.override("en"):
        return accounts_import(file=io.BytesIO(csv_bytes(rows)), filename="accounts.csv", **options)


def wrong_check_digit(national_id: str) -> str:
    return national_id[:17] + ("0" if national_id[17] != "0" else "1")


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def stored_files(media_root: Path) -> list[Path]:
    return [path for path in Path(media_root).rglob("*") if path.is_file()]


def test_the_sample_file_imports_its_200_accounts_without_errors(db):
    with SAMPLE.open("rb") as handle:
        batch = accounts_import(file=handle, filename=SAMPLE.name)

    assert batch.summary() == {
        "batch": batch.pk,
        "status": "done",
        "created": 200,
        "updated": 0,
        "unchanged": 0,
        "error_count": 0,
        "errors": [],
    }
    assert CardAccount.objects.count() == 200
    assert Debtor.objects.count() == 200
    assert ContactPerson.objects.filter(relation=ContactPerson.Relation.GUARANTOR).count() == 30



@pytest.mark.parametrize(
    "values, column, reason",
    [
        ({"national_id": wrong_check_digit(make_national_id(2))}, "national_id", "check digit"),
        ({"national_id": "31010119900101"}, "national_id", "18 characters"),
        ({"mobile": "12345678901"}, "mobile", "11 digits"),
        ({"jurisdiction": "US", "mobile": "13912345678"}, "mobile", "E.164"),
        ({"email": "holder-at-example.com"}, "email", "email address"),
        ({"principal_overdue": "-0.01"}, "principal_overdue", "negative"),
        ({"interest_overdue": "10.005"}, "interest_overdue", "two decimals"),
        ({"credit_limit": "1,000.00"}, "credit_limit", "not an amount"),
        ({"delinquent_since": (timezone.localdate() + timedelta(days=1)).isoformat()}, "delinquent_since", "future"),
        ({"last_payment_on": (timezone.localdate() + timedelta(days=1)).isoformat()}, "last_payment_on", "future"),
        ({"delinquent_since": "2026-02-30"}, "delinquent_since", "not a real date"),
        ({"delinquent_since": "30/01/2026"}, "delinquent_since", "ISO date"),
        ({"jurisdiction": "XX"}, "jurisdiction", "Unknown jurisdiction"),
        ({"full_name": ""}, "full_name", "required"),
        ({"delinquent_since": ""}, "delinquent_since", "required"),
        ({"national_id": ""}, "national_id", "required"),
        ({"timezone": "Asia/Beijing"}, "timezone", "IANA"),
        ({"card_last4": "12a4"}, "card_last4", "four digits"),
        ({"guarantor_name": "李强", "guarantor_mobile": "1391234"}, "guarantor_mobile", "11 digits"),
        ({"guarantor_name": "李强"}, "guarantor_mobile", "needs a mobile"),
    ],
)
def test_a_bad_row_is_reported_with_row_column_and_reason_while_the_good_rows_apply(db, values, column, reason):
    batch = run_import([account_row(1), account_row(2, **values), account_row(3)])

    assert [(e["row"], e["column"]) for e in batch.errors] == [(3, column)]
    assert reason in batch.errors[0]["message"]
    assert (batch.created, batch.updated, batch.unchanged) == (2, 0, 0)
    assert set(CardAccount.objects.values_list("external_ref", flat=True)) == {"T00000001", "T00000003"}


def test_every_bad_value_of_a_row_is_reported(db):
    batch = run_import([account_row(1, mobile="0", card_last4="", fees_overdue="-1")])

    assert [(e["row"], e["column"]) for e in batch.errors] == [
        (2, "mobile"),
        (2, "card_last4"),
        (2, "fees_overdue"),
    ]


def test_a_row_number_is_the_line_in_the_file_with_the_header_as_row_1(db):
    data = csv_bytes([account_row(1)]) + b"\r\n" + csv_bytes([account_row(2, mobile="1")]).split(b"\r\n", 1)[1]

    with translation.override("en"):
        batch = accounts_import(file=io.BytesIO(data), filename="accounts.csv")

    assert [(e["row"], e["column"]) for e in batch.errors] == [(4, "mobile")]


@pytest.mark.parametrize(
    "header, code, columns, message",
    [
        (
            [name for name in HEADER if name not in ("mobile", "card_last4")],
            FileCode.MISSING_COLUMNS,
            ["mobile", "card_last4"],
            "lacks these required columns: mobile, card_last4",
        ),
        ([*HEADER, "full_name"], FileCode.DUPLICATE_COLUMNS, ["full_name"], "more than once: full_name"),
        ([*HEADER, "Nickname"], FileCode.UNKNOWN_COLUMNS, ["nickname"], "does not know: nickname"),
        ([*HEADER, ""], FileCode.UNKNOWN_COLUMNS, ["(blank, column 18)"], "does not know: (blank, column 18)"),
    ],
)
def test_a_header_with_a_missing_repeated_or_unknown_column_is_refused_naming_it(
    db, media_root, header, code, columns, message
):
    data = csv_bytes([account_row(1, nickname="x")], header=header)

    with translation.override("en"), pytest.raises(ImportFileRefused) as refused:
        accounts_import(file=io.BytesIO(data), filename="a.csv")

    assert (refused.value.code, refused.value.details) == (code, {"columns": columns})
    assert message in refused.value.message
    assert (ImportBatch.objects.count(), CardAccount.objects.count(), stored_files(media_root)) == (0, 0, [])


def test_a_row_with_a_different_number_of_fields_than_the_header_is_rejected(db):
    data = csv_bytes([account_row(1)]) + b"T2,only,three\r\n"

    with translation.override("en"):
        batch = accounts_import(file=io.BytesIO(data), filename="accounts.csv")

    assert [(e["row"], e["column"]) for e in batch.errors] == [(3, "")]
    assert batch.created == 1


def test_an_account_reference_repeated_in_the_file_is_rejected_after_its_first_row(db):
    batch = run_import([account_row(1), account_row(2, external_ref="T00000001")])

    assert [(e["row"], e["column"]) for e in batch.errors] == [(3, "external_ref")]
    assert "row 2" in batch.errors[0]["message"]
    assert CardAccount.objects.get().debtor.national_id == make_national_id(1)


@pytest.mark.parametrize(
    "encoding, recorded",
    [("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("gb18030", "gb18030")],
)
def test_utf8_utf8_with_bom_and_gb18030_files_import_the_same(db, encoding, recorded):
    rows = [
        account_row(1, full_name="𠮷野家", city="重庆"),
        account_row(2, full_name="欧阳喆", city="廣州"),
        account_row(3, full_name="阿卜杜拉·艾力", city="乌鲁木齐"),
    ]

    batch = accounts_import(file=io.BytesIO(csv_bytes(rows, encoding=encoding)), filename="accounts.csv")

    assert (batch.created, batch.errors, batch.encoding) == (3, [], recorded)
    stored = sorted(Debtor.objects.values_list("full_name", "city"))
    assert stored == sorted((row["full_name"], row["city"]) for row in rows)


def test_a_named_encoding_is_used_instead_of_detection(db):
    data = csv_bytes([account_row(1, full_name="张三")], encoding="gb18030")

    with translation.override("en"):
        batch = accounts_import(file=io.BytesIO(data), filename="accounts.csv", encoding="GB18030")

    assert batch.encoding == "gb18030"
    assert Debtor.objects.get().full_name == "张三"


def test_names_are_stored_exactly_as_given(db):
    names = ["阿卜杜拉·艾力", "Nguyễn Văn  An", "o'brien"]

    run_import([account_row(n, full_name=name) for n, name in enumerate(names, start=1)])

    assert sorted(Debtor.objects.values_list("full_name", flat=True)) == sorted(names)


def test_names_with_tabs_backslashes_and_line_breaks_are_stored_exactly(db):
    names = ["tab\there", "back\\slash", "two\nlines", "carriage\rreturn", "\\N", "\\t"]

    run_import([account_row(n, full_name=name, city=f"({name})") for n, name in enumerate(names, start=1)])

    assert sorted(Debtor.objects.values_list("full_name", flat=True)) == sorted(names)
    assert sorted(Debtor.objects.values_list("city", flat=True)) == sorted(f"({name})" for name in names)


def test_a_cardholder_without_identity_number_is_keyed_by_the_account(db):
    run_import([account_row(1, jurisdiction="US", national_id="", mobile="+14155550123", timezone="")])

    debtor = Debtor.objects.get()
    assert debtor.key == "acct:T00000001"
    assert debtor.timezone == "America/New_York"


def test_two_accounts_of_one_cardholder_share_the_cardholder(db):
    same_person = make_national_id(7)

    batch = run_import([account_row(1, national_id=same_person), account_row(2, national_id=same_person)])

    assert batch.created == 2
    assert Debtor.objects.get().accounts.count() == 2


def test_a_guarantor_becomes_a_contact_person_of_the_cardholder(db):
    run_import([account_row(1, guarantor_name="李强", guarantor_mobile="13800000001")])

    person = ContactPerson.objects.get()
    assert (person.name, person.mobile, person.relation) == ("李强", "13800000001", "guarantor")
    assert person.debtor.national_id == make_national_id(1)


def test_importing_the_same_file_again_changes_nothing(db):
    rows = [account_row(1, guarantor_name="李强", guarantor_mobile="13800000001"), account_row(2), account_row(3)]
    run_import(rows)

    def snapshot():
        return (
            list(Debtor.objects.order_by("pk").values()),
            list(CardAccount.objects.order_by("pk").values()),
            list(ContactPerson.objects.order_by("pk").values()),
            list(Case.objects.order_by("pk").values()),
        )

    before = snapshot()
    batch = run_import(rows)

    assert (batch.created, batch.updated, batch.unchanged, batch.errors) == (0, 0, 3, [])
    assert snapshot() == before


def test_a_changed_amount_is_an_update(db):
    run_import([account_row(1), account_row(2)])

    batch = run_import([account_row(1), account_row(2, principal_overdue="7500.50")])

    assert (batch.created, batch.updated, batch.unchanged) == (0, 1, 1)
    assert CardAccount.objects.get(external_ref="T00000002").principal_overdue == 7500.50


def test_a_changed_mobile_is_an_update_of_the_cardholder(db):
    run_import([account_row(1)])

    batch = run_import([account_row(1, mobile="13700000000")])

    assert (batch.created, batch.updated, batch.unchanged) == (0, 1, 0)
    assert Debtor.objects.get().mobile == "13700000000"


def test_a_cleared_last_payment_date_is_an_update(db):
    paid_before = (timezone.localdate() - timedelta(days=30)).isoformat()
    run_import([account_row(1, last_payment_on=paid_before), account_row(2, last_payment_on=paid_before)])

    batch = run_import([account_row(1), account_row(2)])

    assert (batch.created, batch.updated, batch.unchanged) == (0, 2, 0)
    assert list(CardAccount.objects.values_list("last_payment_on", flat=True)) == [None, None]


def test_a_guarantors_changed_name_is_an_update(db):
    run_import([account_row(1, guarantor_name="李强", guarantor_mobile="13800000001"), account_row(2)])

    batch = run_import([account_row(1, guarantor_name="李小强", guarantor_mobile="13800000001"), account_row(2)])

    assert (batch.created, batch.updated, batch.unchanged) == (0, 1, 1)
    assert list(ContactPerson.objects.values_list("name", "mobile")) == [("李小强", "13800000001")]


def test_an_updated_account_keeps_its_case_and_a_newly_delinquent_one_gets_one(db):
    paid_up = {"principal_overdue": "0.00", "interest_overdue": "0.00", "fees_overdue": "0.00"}
    run_import([account_row(1), account_row(2, **paid_up)])
    first = Case.objects.get()

    batch = run_import([account_row(1, principal_overdue="9000.00"), account_row(2)])

    assert (batch.created, batch.updated, batch.unchanged) == (0, 2, 0)
    assert Case.objects.get(account__external_ref="T00000001") == first
    assert Case.objects.get(account__external_ref="T00000002").status == CaseStatus.NOTIFY


def test_cases_are_opened_for_delinquent_rows_only(db):
    paid_up = {"principal_overdue": "0.00", "interest_overdue": "0.00", "fees_overdue": "0.00"}

    run_import([account_row(1), account_row(2, **paid_up)])

    case = Case.objects.get()
    assert case.account.external_ref == "T00000001"
    assert case.status == CaseStatus.NOTIFY


def test_the_batch_keeps_the_file_and_one_audit_event_records_it(db, media_root):
    data = csv_bytes([account_row(1)])

    batch = accounts_import(file=io.BytesIO(data), filename="accounts.csv")

    batch.refresh_from_db()
    assert batch.file.read() == data
    assert (batch.filename, batch.rows, batch.finished_at is not None) == ("accounts.csv", 1, True)
    event = AuditEvent.objects.get(action="import.accounts")
    assert (event.target_id, event.changes["created"], event.changes["errors"]) == (str(batch.pk), 1, 0)


def test_the_import_makes_the_same_number_of_queries_for_5_or_40_rows(db):
    def queries_for(first: int, count: int) -> int:
        with CaptureQueriesContext(connection) as captured:
            run_import([account_row(n) for n in range(first, first + count)])
        return len(captured)

    run_import([account_row(0)])  # the first import also creates the classification policy row

    assert queries_for(1, 5) == queries_for(100, 40)


@pytest.mark.parametrize(
    "content, code",
    [
        (b"external_ref,full_name\r\nT1,\xff\xfe\xfa\r\n", FileCode.UNDECODABLE),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", FileCode.NOT_CSV),
        (b'{"accounts": []}\n', FileCode.NOT_CSV),
        (b"", FileCode.EMPTY),
    ],
)
def test_a_file_that_is_not_a_readable_csv_is_refused_and_nothing_is_stored(db, media_root, content, code):
    with pytest.raises(ImportFileRefused) as refused:
        accounts_import(file=io.BytesIO(content), filename="accounts.csv")

    assert refused.value.code == code
    assert ImportBatch.objects.count() == 0
    assert AuditEvent.objects.count() == 0
    assert stored_files(media_root) == []


# --- The API ---------------------------------------------------------------------------------------


def upload(data: bytes, name: str = "accounts.csv") -> dict:
    return {"file": SimpleUploadedFile(name, data, content_type="text/csv")}


@pytest.fixture
def queue_now(django_capture_on_commit_callbacks):
    """Uploads queue their import on commit, which a test's transaction never reaches: `with queue_now():`
    runs the (eager) tasks queued inside it when it ends."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def test_the_import_api_queues_the_file_and_answers_202_with_the_batch_to_poll(api, supervisor, queue_now):
    data = csv_bytes([account_row(1), account_row(2, mobile="1")])

    with queue_now():
        response = api(supervisor).post(URL, upload(data), format="multipart")

    assert response.status_code == 202
    batch = ImportBatch.objects.get()
    assert response["Location"] == response.json()["url"] == f"/api/v1/imports/{batch.pk}/"
    assert (response.json()["state"], response.json()["rows_total"], batch.uploaded_by) == ("queued", 2, supervisor)
    body = api(supervisor).get(response["Location"]).json()
    assert (body["state"], body["rows_done"], body["rows_total"]) == ("done", 2, 2)
    assert (body["created"], body["updated"], body["unchanged"], body["error_count"]) == (1, 0, 0, 1)
    assert [(e["row"], e["column"]) for e in body["errors"]] == [(3, "mobile")]
    assert body["errors_url"] == f"/api/v1/imports/{batch.pk}/errors.csv"
    assert AuditEvent.objects.filter(action="import.accounts.queued", target_id=str(batch.pk)).count() == 1


def test_the_import_api_takes_an_admins_token(api, admin_user_, queue_now):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=admin_user_).key}")

    with queue_now():
        response = client.post(URL, upload(csv_bytes([account_row(1)])), format="multipart")

    assert response.status_code == 202
    assert client.get(response["Location"]).json()["created"] == 1


@pytest.mark.parametrize("role", ["collector", "legal", "compliance"])
def test_the_import_api_refuses_anyone_but_supervisors_and_admins(api, team, role):
    user = UserFactory(username=f"a-{role}", role=role, team=team)

    response = api(user).post(URL, upload(csv_bytes([account_row(1)])), format="multipart")

    assert response.status_code == 403
    assert ImportBatch.objects.count() == 0
    assert CardAccount.objects.count() == 0


def test_the_import_api_answers_400_to_an_undecodable_file_and_stores_nothing(api, supervisor, media_root):
    response = api(supervisor).post(URL, upload(b"external_ref\r\n\xff\xfe\xfa\xfb\r\n"), format="multipart")

    assert response.status_code == 400
    assert response.json()["code"] == FileCode.UNDECODABLE
    assert response.json()["detail"]
    assert ImportBatch.objects.count() == 0
    assert Debtor.objects.count() == 0
    assert stored_files(media_root) == []


@pytest.mark.parametrize(
    "header, code, named",
    [
        ([*HEADER, "full_name"], FileCode.DUPLICATE_COLUMNS, "full_name"),
        ([*HEADER, "nickname"], FileCode.UNKNOWN_COLUMNS, "nickname"),
    ],
)
def test_the_import_api_answers_400_naming_a_repeated_or_unknown_column(
    api, supervisor, media_root, header, code, named
):
    data = csv_bytes([account_row(1, nickname="x")], header=header)

    response = api(supervisor).post(URL, upload(data), format="multipart", HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 400
    assert (response.json()["code"], response.json()["details"]) == (code, {"columns": [named]})
    assert named in response.json()["detail"]
    assert (ImportBatch.objects.count(), stored_files(media_root)) == (0, [])


def test_the_import_api_answers_413_to_a_file_over_the_limit_and_stores_nothing(
    api, supervisor, settings, media_root
):
    settings.IMPORT_MAX_BYTES = 500
    data = csv_bytes([account_row(n) for n in range(1, 6)])

    response = api(supervisor).post(URL, upload(data), format="multipart", HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 413
    body = response.json()
    assert (body["code"], body["details"]) == (FileCode.TOO_LARGE, {"size": len(data), "limit": 500})
    assert body["detail"] == f"The file is {filesizeformat(len(data))}; an import takes at most 500\xa0bytes."
    assert (ImportBatch.objects.count(), stored_files(media_root)) == (0, [])


def test_the_import_api_refuses_an_upload_declared_too_large_before_reading_it(api, supervisor, settings):
    settings.IMPORT_MAX_BYTES = 1000
    data = csv_bytes([account_row(n) for n in range(1, 600)])  # far beyond the limit and the multipart framing

    response = api(supervisor).post(URL, upload(data), format="multipart")

    assert response.status_code == 413
    assert response.json()["code"] == FileCode.TOO_LARGE
    assert ImportBatch.objects.count() == 0


def test_the_same_file_uploaded_again_returns_the_earlier_batch_and_queues_nothing(api, supervisor, queue_now):
    data = csv_bytes([account_row(1)])
    with queue_now():
        first = api(supervisor).post(URL, upload(data), format="multipart")

    with queue_now():
        again = api(supervisor).post(URL, upload(data, name="renamed.csv"), format="multipart")

    assert (first.status_code, again.status_code) == (202, 200)
    assert again.json()["id"] == first.json()["id"]
    assert again["Location"] == first["Location"]
    assert ImportBatch.objects.count() == 1


def test_a_file_whose_earlier_import_failed_can_be_uploaded_again(api, supervisor, queue_now):
    data = csv_bytes([account_row(1)])
    with queue_now():
        first = api(supervisor).post(URL, upload(data), format="multipart")
    ImportBatch.objects.filter(pk=first.json()["id"]).update(status="failed", failure_code="worker_lost")

    again = api(supervisor).post(URL, upload(data), format="multipart")

    assert again.status_code == 202
    assert again.json()["id"] != first.json()["id"]


def test_the_errors_are_capped_at_1000_in_the_api_and_all_in_the_csv(api, supervisor, queue_now, settings):
    settings.IMPORT_MAX_BYTES = 10 * 1024 * 1024
    rows = [account_row(n, mobile="1", card_last4="x") for n in range(1, 801)]  # two errors each

    with queue_now():
        response = api(supervisor).post(URL, upload(csv_bytes(rows)), format="multipart")
    body = api(supervisor).get(response["Location"]).json()
    download = api(supervisor).get(body["errors_url"])

    assert (body["state"], body["error_count"], len(body["errors"])) == ("done", 1600, 1000)
    assert download.status_code == 200
    assert download["Content-Type"] == "text/csv; charset=utf-8"
    lines = list(csv.reader(io.StringIO(b"".join(download.streaming_content).decode("utf-8-sig"))))
    assert lines[0] == ["row", "column", "message"]
    assert len(lines) == 1 + 1600
    assert lines[-1][:2] == ["801", "card_last4"]
    event = AuditEvent.objects.get(action="import.accounts.errors_exported")
    assert (event.target_id, event.actor_id, event.changes) == (str(body["id"]), supervisor.pk, {"errors": 1600})


@pytest.mark.parametrize(
    "value, cell",
    [("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"), ("+1", "'+1"), ("-2", "'-2"), ("@SUM(A1)", "'@SUM(A1)"),
     ("plain", "plain"), ("a=b", "a=b")],
)
def test_error_csv_cells_that_a_spreadsheet_would_run_get_a_leading_quote(api, supervisor, value, cell):
    batch = ImportBatch.objects.create(
        kind="accounts", status="done", filename="a.csv", sha256="0" * 64, error_count=1,
        errors=[{"row": 2, "column": value, "message": value}],
    )

    download = api(supervisor).get(f"/api/v1/imports/{batch.pk}/errors.csv")

    lines = list(csv.reader(io.StringIO(b"".join(download.streaming_content).decode("utf-8-sig"))))
    assert lines[1] == ["2", cell, cell]


def test_a_failed_import_applies_nothing_and_says_why_in_the_readers_language(
    api, supervisor, queue_now, monkeypatch
):
    monkeypatch.setattr(imports, "CHUNK_ROWS", 2)
    applied = imports._accounts_apply

    def collide_on_the_second_chunk(rows, tally, today):
        if tally.created:
            raise IntegrityError("duplicate key value violates unique constraint")
        applied(rows, tally, today)

    monkeypatch.setattr(imports, "_accounts_apply", collide_on_the_second_chunk)

    data = csv_bytes([account_row(n) for n in range(1, 6)])

    with queue_now():
        response = api(supervisor).post(URL, upload(data), format="multipart")
    english = api(supervisor).get(response["Location"], HTTP_ACCEPT_LANGUAGE="en").json()
    chinese = api(supervisor).get(response["Location"], HTTP_ACCEPT_LANGUAGE="zh-hans").json()

    assert (english["state"], english["failure_code"], english["rows_done"]) == ("failed", "conflict", 0)
    assert "collided with the import" in english["failure"]
    assert chinese["failure"] != english["failure"] and chinese["failure"]
    assert (CardAccount.objects.count(), Debtor.objects.count(), Case.objects.count()) == (0, 0, 0)
    assert AuditEvent.objects.filter(action="import.accounts.failed").count() == 1
    assert not AuditEvent.objects.filter(action="import.accounts").exists()


def test_a_batch_left_running_by_a_dead_worker_is_failed_by_the_stale_check(db):
    batch = ImportBatch.objects.create(kind="accounts", status="running", filename="a.csv", sha256="1" * 64)

    assert import_batches_fail_stale() == 1

    batch.refresh_from_db()
    assert (batch.status, batch.failure_code, batch.finished_at is not None) == ("failed", "worker_lost", True)


def test_a_finished_batch_delivered_again_is_left_alone(db, supervisor):
    batch = run_import([account_row(1)])

    again = import_batch_run(batch_id=batch.pk)

    assert (again.status, again.created) == ("done", 1)
    assert ImportBatch.objects.count() == 1
    assert AuditEvent.objects.filter(action="import.accounts").count() == 1


@contextmanager
def import_lock_held_elsewhere():
    """The import lock as another process would hold it: on PostgreSQL from a second session (a session
    may take its own advisory lock twice), elsewhere the lock file opened anew."""
    if connection.vendor != "postgresql":
        with imports._import_lock(wait=True):
            yield
        return
    other = connections.create_connection("default")
    with other.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [imports.IMPORT_LOCK_KEY])
        try:
            yield
        finally:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [imports.IMPORT_LOCK_KEY])
    other.close()


def queued(supervisor, rows) -> ImportBatch:
    data = csv_bytes(rows)
    batch, _created = import_batch_queue(
        kind="accounts", file=io.BytesIO(data), filename="a.csv", size=len(data), uploaded_by=supervisor
    )
    return batch


def test_a_queued_batch_waits_while_another_import_holds_the_lock(db, supervisor, media_root):
    batch = queued(supervisor, [account_row(1)])

    with import_lock_held_elsewhere(), pytest.raises(ImportBusy):
        import_batch_run(batch_id=batch.pk)

    batch.refresh_from_db()
    assert (batch.status, CardAccount.objects.count()) == ("queued", 0)
    assert import_batch_run(batch_id=batch.pk).status == "done"
    assert CardAccount.objects.count() == 1


def test_the_stale_check_leaves_a_batch_alone_while_its_import_holds_the_lock(db):
    batch = ImportBatch.objects.create(kind="accounts", status="running", filename="a.csv", sha256="5" * 64)

    with import_lock_held_elsewhere():
        assert import_batches_fail_stale() == 0

    batch.refresh_from_db()
    assert batch.status == "running"


def test_a_batch_whose_worker_died_starts_over_when_its_task_comes_back(db, supervisor, media_root):
    batch = queued(supervisor, [account_row(1), account_row(2)])
    ImportBatch.objects.filter(pk=batch.pk).update(status="running", rows=1)  # the dead run got this far

    again = import_batch_run(batch_id=batch.pk)

    assert (again.status, again.rows, again.created) == ("done", 2, 2)
    assert CardAccount.objects.count() == 2


def test_the_import_api_handles_a_file_spooled_to_disk(api, supervisor, settings, queue_now):
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 10
    data = csv_bytes([account_row(n) for n in range(1, 4)], encoding="gb18030")

    with queue_now():
        response = api(supervisor).post(URL, upload(data), format="multipart")

    assert response.status_code == 202
    assert api(supervisor).get(response["Location"]).json()["created"] == 3


def test_the_import_endpoints_are_in_the_openapi_schema(api, supervisor):
    schema = api(supervisor).get("/api/schema/", {"format": "json"}).json()

    post = schema["paths"][URL]["post"]
    assert "multipart/form-data" in post["requestBody"]["content"]
    assert {"202", "200", "400", "413"} <= set(post["responses"])
    assert "get" in schema["paths"]["/api/v1/imports/{id}/"]
    assert "text/csv" in schema["paths"]["/api/v1/imports/{id}/errors.csv"]["get"]["responses"]["200"]["content"]


# --- The commands ----------------------------------------------------------------------------------


def test_the_import_command_prints_the_result_as_json(db, tmp_path):
    path = tmp_path / "accounts.csv"
    path.write_bytes(csv_bytes([account_row(1), account_row(2)], encoding="gb18030"))
    out = io.StringIO()

    call_command("import_accounts", str(path), "--encoding", "gb18030", stdout=out)

    result = json.loads(out.getvalue())
    assert (result["created"], result["errors"]) == (2, [])
    assert ImportBatch.objects.get(pk=result["batch"]).encoding == "gb18030"


def test_the_import_command_names_a_file_it_cannot_decode(db, tmp_path):
    path = tmp_path / "accounts.csv"
    path.write_bytes(b"external_ref\r\n\xff\xfe\xfa\xfb\r\n")

    with translation.override("en"), pytest.raises(CommandError, match="cannot be decoded"):
        call_command("import_accounts", str(path))

    assert ImportBatch.objects.count() == 0


def test_the_import_command_refuses_an_unknown_encoding(db, tmp_path):
    path = tmp_path / "accounts.csv"
    path.write_bytes(csv_bytes([account_row(1)]))

    with translation.override("en"), pytest.raises(CommandError, match="not an encoding"):
        call_command("import_accounts", str(path), "--encoding", "klingon")


def test_the_benchmark_command_imports_then_reimports_unchanged(db):
    out = io.StringIO()

    call_command("benchmark_import", "--rows", "30", stdout=out)

    assert CardAccount.objects.count() == 30
    batches = list(ImportBatch.objects.order_by("pk"))
    assert [(b.created, b.unchanged, b.errors) for b in batches] == [(30, 0, []), (0, 30, [])]
    assert "rows/s" in out.getvalue()



class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_import_command_draws_a_progress_bar_only_on_a_terminal(db, tmp_path, monkeypatch):
    monkeypatch.setattr(imports, "PROGRESS_SECONDS", 0)
    path = tmp_path / "accounts.csv"
    path.write_bytes(csv_bytes([account_row(n) for n in range(1, 4)]))
    terminal, pipe = Terminal(), io.StringIO()

    call_command("import_accounts", str(path), stdout=terminal)
    call_command("import_accounts", str(path), stdout=pipe)

    assert "\r[" + "#" * 40 + "] 100%  3 / 3 rows" in terminal.getvalue()
    assert json.loads(terminal.getvalue().rsplit("\n", 1)[0].split("rows\n", 1)[1])["created"] == 3
    assert "\r" not in pipe.getvalue()
    assert json.loads(pipe.getvalue())["unchanged"] == 3


def test_the_import_command_fails_naming_the_reason_and_applies_nothing(db, tmp_path, monkeypatch):
    def collide(rows, tally, today):
        raise IntegrityError("duplicate key")

    monkeypatch.setattr(imports, "_accounts_apply", collide)
    path = tmp_path / "accounts.csv"
    path.write_bytes(csv_bytes([account_row(1)]))

    with translation.override("en"), pytest.raises(CommandError, match="collided with the import"):
        call_command("import_accounts", str(path))

    assert ImportBatch.objects.get().status == "failed"
    assert CardAccount.objects.count() == 0


# --- The pages -------------------------------------------------------------------------------------

PAGE = "/cases/imports/"


def test_an_upload_on_the_page_queues_the_import_and_shows_its_batch(as_user, supervisor, queue_now):
    client = as_user(supervisor)

    with queue_now():
        response = client.post(PAGE, {"file": upload(csv_bytes([account_row(1), account_row(2, mobile="1")]))["file"]})

    batch = ImportBatch.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/cases/imports/{batch.pk}/"
    page = client.get(response["Location"])
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-state="done"' in html and "hx-trigger" not in html
    assert f'href="/api/v1/imports/{batch.pk}/errors.csv"' in html
    assert "<script" not in html.split("<main", 1)[-1]


def test_a_running_batch_polls_its_status_fragment(as_user, supervisor):
    batch = ImportBatch.objects.create(
        kind="accounts", status="running", filename="a.csv", sha256="2" * 64, rows_total=1000, rows=250
    )

    fragment = as_user(supervisor).get(f"/cases/imports/{batch.pk}/", HTTP_HX_REQUEST="true")

    html = fragment.content.decode()
    assert "<html" not in html
    assert f'hx-get="/cases/imports/{batch.pk}/"' in html and 'hx-trigger="every 1s"' in html
    assert 'max="1000" value="250"' in html
    assert "250 of 1000 rows" in html


def test_a_failed_batch_page_says_why(as_user, supervisor):
    batch = ImportBatch.objects.create(
        kind="accounts", status="failed", failure_code="worker_lost", filename="a.csv", sha256="3" * 64
    )

    html = as_user(supervisor).get(f"/cases/imports/{batch.pk}/").content.decode()

    assert "The worker running the import stopped" in html
    assert "hx-trigger" not in html


@pytest.mark.parametrize(
    "data, status, shown",
    [
        (csv_bytes([account_row(1, nickname="x")], header=[*HEADER, "nickname"]), 400, "does not know: nickname"),
        (csv_bytes([account_row(1)], header=[*HEADER, "mobile"]), 400, "more than once: mobile"),
        (csv_bytes([account_row(n) for n in range(1, 9)]), 413, "an import takes at most 1000"),
    ],
)
def test_the_page_refuses_a_bad_or_oversized_file_saying_why(as_user, supervisor, settings, data, status, shown):
    settings.IMPORT_MAX_BYTES = 1000

    response = as_user(supervisor).post(PAGE, {"file": upload(data)["file"]})

    assert response.status_code == status
    assert shown in response.content.decode()
    assert ImportBatch.objects.count() == 0


def test_collectors_cannot_open_the_import_pages(as_user, collector):
    batch = ImportBatch.objects.create(kind="accounts", status="done", filename="a.csv", sha256="4" * 64)

    assert as_user(collector).get(PAGE).status_code == 403
    assert as_user(collector).get(f"/cases/imports/{batch.pk}/").status_code == 403
