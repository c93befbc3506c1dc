"""What the import commands share: read a file, hand it to an importer, print its summary as JSON."""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from cases.imports import failure_message
from cases.models import ImportBatch
from config.errors import DomainError

BAR_WIDTH = 40


class ImportCommand(BaseCommand):
    """Subclasses set `help` and `importer` (a function of file, filename, encoding and progress returning a
    batch). The import runs in the foreground, in one transaction, after any import already running."""

    importer = None

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--encoding", help="the file's encoding, e.g. gb18030 (default: detect)")

    def handle(self, *args, file: Path, encoding: str | None, **options):
        on_terminal = self.stdout.isatty()
        try:
            with file.open("rb") as handle:
                batch = self.importer(
                    file=handle, filename=file.name, encoding=encoding, progress=self.bar if on_terminal else None
                )
        except OSError as problem:
            raise CommandError(f"{file}: {problem.strerror}") from problem
        except DomainError as refused:
            raise CommandError(f"{file}: {refused.message}") from refused
        if on_terminal:
            self.bar(batch.rows_total, batch.rows_total)
            self.stdout.write("")
        if batch.status == ImportBatch.Status.FAILED:
            raise CommandError(f"{file}: {failure_message(batch.failure_code)}")
        self.stdout.write(json.dumps(batch.summary(), ensure_ascii=False, indent=2))

    def bar(self, done: int, total: int) -> None:
        """One line redrawn in place: [#####-----]  52 %  83,000 / 160,000 rows."""
        share = done / total if total else 1
        filled = round(share * BAR_WIDTH)
        self.stdout.write(
            f"\r[{'#' * filled}{'-' * (BAR_WIDTH - filled)}] {share:4.0%}  {done:,} / {total:,} rows", ending=""
        )
        self.stdout.flush()
