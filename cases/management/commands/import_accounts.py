from cases.imports import accounts_import
from cases.management.import_command import ImportCommand


class Command(ImportCommand):
    help = (
        "Import card accounts from a CSV file (format: docs/import-format.md). UTF-8, UTF-8 with BOM "
        "and GB18030 are detected; prints the result as JSON."
    )
    importer = staticmethod(accounts_import)
