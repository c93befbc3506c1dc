"""A supervisor imports an account file in the browser and watches the job's progress bar refresh itself."""

import re

import pytest

from cases.models import CardAccount, ImportBatch
from tests.cases.test_imports import account_row, csv_bytes
from tests.conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_supervisor_uploads_a_file_and_lands_on_its_finished_import(page, supervisor, settings, tmp_path,
                                                                     screenshots_dir):
    settings.MEDIA_ROOT = tmp_path / "media"
    path = tmp_path / "accounts.csv"
    path.write_bytes(csv_bytes([account_row(1), account_row(2), account_row(3, mobile="1")]))

    login(page, "supervisor")
    page.wait_for_url(re.compile(r"/cases/supervisor/$"))
    page.click('a[href="/cases/imports/"]')
    page.set_input_files("#id_file", str(path))
    page.click('[data-testid="import-form"] button[type=submit]')

    batch = ImportBatch.objects.get()
    page.wait_for_url(re.compile(rf"/cases/imports/{batch.pk}/$"))
    status = page.locator('[data-testid="import-status"]')
    assert status.get_attribute("data-state") == "done"
    assert page.locator('[data-testid="import-created"]').inner_text() == "2"
    assert page.locator('[data-testid="import-errors-csv"]').get_attribute("href") == (
        f"/api/v1/imports/{batch.pk}/errors.csv"
    )
    assert CardAccount.objects.count() == 2
    page.screenshot(path=str(screenshots_dir / "supervisor_import_done.png"), full_page=True)


def test_the_progress_bar_follows_a_running_import_until_it_is_done(page, supervisor, screenshots_dir):
    batch = ImportBatch.objects.create(
        kind="accounts", status="running", filename="big.csv", sha256="6" * 64, rows_total=1000, rows=100,
        uploaded_by=supervisor,
    )
    errors = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)

    login(page, "supervisor")
    page.wait_for_url(re.compile(r"/cases/supervisor/$"))
    page.goto(f"{page.base_url}/cases/imports/{batch.pk}/")
    bar = page.locator("#import-status progress")
    assert bar.get_attribute("value") == "100"

    ImportBatch.objects.filter(pk=batch.pk).update(rows=600)
    page.wait_for_function("() => document.querySelector('#import-status progress').value == 600")
    page.screenshot(path=str(screenshots_dir / "supervisor_import_running.png"), full_page=True)
    ImportBatch.objects.filter(pk=batch.pk).update(status="done", rows=1000, created=1000)
    page.wait_for_selector('[data-testid="import-status"][data-state="done"]')

    assert page.locator('[data-testid="import-created"]').inner_text() == "1000"
    assert page.locator("[hx-trigger]").count() == 0  # polling stops once the job is over
    assert not [text for text in errors if "Content Security Policy" in text]
