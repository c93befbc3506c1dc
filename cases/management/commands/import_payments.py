from cases.imports import payments_import
from cases.management.import_command import ImportCommand


class Command(ImportCommand):
    help = (
        "Record payments from a CSV file with the header external_ref,account_ref,amount,paid_at "
        "(paid_at: ISO date-time with offset, or a date meaning midnight in Asia/Shanghai). "
        "A payment already recorded counts as unchanged; prints the result as JSON."
    )
    importer = staticmethod(payments_import)
