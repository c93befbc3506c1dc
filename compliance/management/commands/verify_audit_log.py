from django.core.management.base import BaseCommand, CommandError

from compliance.audit import first_broken_event
from compliance.models import AuditEvent


class Command(BaseCommand):
    help = "Recompute the audit log's hash chain and name the first broken row."

    def handle(self, *args, **options):
        broken = first_broken_event()
        if broken is not None:
            raise CommandError(
                f"Audit log broken at event {broken.pk} ({broken.action}, {broken.at.isoformat()}): "
                "its content or its link to the previous event was changed."
            )
        self.stdout.write(self.style.SUCCESS(f"Audit log intact: {AuditEvent.objects.count()} events."))
