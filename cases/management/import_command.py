"""What the import commands share: read a file, hand it to an importer, print its summary as JSON."""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from config.errors import DomainError


class ImportCommand(BaseCommand):
    """Subclasses set `help` and `importer` (a function of file, filename and encoding returning a batch)."""

    importer = None

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--encoding", help="the file's encoding, e.g. gb18030 (default: detect)")

    def handle(self, *args, file: Path, encoding: str | None, **options):
        try:
            with file.open("rb") as handle:
                batch = self.importer(file=handle, filename=file.name, encoding=encoding)
        except OSError as problem:
            raise CommandError(f"{file}: {problem.strerror}") from problem
        except DomainError as refused:
            raise CommandError(f"{file}: {refused.message}") from refused
        self.stdout.write(json.dumps(batch.summary(), ensure_ascii=False, indent=2))
