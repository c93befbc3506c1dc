"""The account import (shared/samples/README.md): the service, `manage.py import_accounts` and the upload API."""

import csv
import io
import json
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from cases.imports import FileCode, ImportFileRefused, accounts_import
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

    assert batch.summary() == {"batch": batch.pk, "created": 200, "updated": 0, "unchanged": 0, "errors": []}
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


def test_a_missing_required_column_is_one_error_at_row_1_and_nothing_is_applied(db):
    header = [name for name in HEADER if name != "mobile"]

    with translation.override("en"):
        batch = accounts_import(file=io.BytesIO(csv_bytes([account_row(1)], header=header)), filename="a.csv")

    assert batch.errors == [
        {"row": 1, "column": "mobile", "message": "The header lacks the required column “mobile”."}
    ]
    assert CardAccount.objects.count() == 0


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


def test_the_import_api_answers_with_the_result(api, supervisor):
    data = csv_bytes([account_row(1), account_row(2, mobile="1")])

    response = api(supervisor).post(URL, upload(data), format="multipart")

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"batch", "created", "updated", "unchanged", "errors"}
    assert (body["created"], body["updated"], body["unchanged"]) == (1, 0, 0)
    assert [(e["row"], e["column"]) for e in body["errors"]] == [(3, "mobile")]
    assert ImportBatch.objects.get(pk=body["batch"]).uploaded_by == supervisor


def test_the_import_api_takes_an_admins_token(api, admin_user_):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=admin_user_).key}")

    response = client.post(URL, upload(csv_bytes([account_row(1)])), format="multipart")

    assert response.status_code == 200
    assert response.json()["created"] == 1


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


def test_the_import_api_handles_a_file_spooled_to_disk(api, supervisor, settings):
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 10
    data = csv_bytes([account_row(n) for n in range(1, 4)], encoding="gb18030")

    response = api(supervisor).post(URL, upload(data), format="multipart")

    assert response.status_code == 200
    assert response.json()["created"] == 3


def test_the_import_api_is_in_the_openapi_schema(api, supervisor):
    schema = api(supervisor).get("/api/schema/", {"format": "json"}).json()

    assert "multipart/form-data" in schema["paths"][URL]["post"]["requestBody"]["content"]


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

