import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from cases.imports import accounts_import
from config.errors import DomainError


class Command(BaseCommand):
    help = (
        "Import card accounts from a CSV file (format: shared/samples/README.md). UTF-8, UTF-8 with BOM "
        "and GB18030 are detected; prints the result as JSON."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--encoding", help="the file's encoding, e.g. gb18030 (default: detect)")

    def handle(self, *args, file: Path, encoding: str | None, **options):
        try:
            with file.open("rb") as handle:
                batch = accounts_import(file=handle, filename=file.name, encoding=encoding)
        except OSError as problem:
            raise CommandError(f"{file}: {problem.strerror}") from problem
        except DomainError as refused:
            raise CommandError(f"{file}: {refused.message}") from refused
        self.stdout.write(json.dumps(batch.summary(), ensure_ascii=False, indent=2))
