import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from cases.imports import payments_import
from config.errors import DomainError


class Command(BaseCommand):
    help = (
        "Record payments from a CSV file with the header external_ref,account_ref,amount,paid_at "
        "(paid_at: ISO date-time with offset, or a date meaning midnight in Asia/Shanghai). "
        "A payment already recorded counts as unchanged; prints the result as JSON."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--encoding", help="the file's encoding, e.g. gb18030 (default: detect)")

    def handle(self, *args, file: Path, encoding: str | None, **options):
        try:
            with file.open("rb") as handle:
                batch = payments_import(file=handle, filename=file.name, encoding=encoding)
        except OSError as problem:
            raise CommandError(f"{file}: {problem.strerror}") from problem
        except DomainError as refused:
            raise CommandError(f"{file}: {refused.message}") from refused
        self.stdout.write(json.dumps(batch.summary(), ensure_ascii=False, indent=2))
