"""Mask the portal links (and the one-time codes) already stored in outbox texts.

A message not yet sent keeps its clear text sealed, so it still goes out whole. Reversing gives such a message
its clear text back; a message already sent stays masked, because its secret was deliberately not kept."""

from django.db import migrations

from negotiation.sealing import outbox_mask_stored, outbox_unmask_unsent


def mask(apps, schema_editor):
    outbox_mask_stored(apps.get_model("negotiation", "OutboundMessage"))


def unmask_unsent(apps, schema_editor):
    outbox_unmask_unsent(apps.get_model("negotiation", "OutboundMessage"))


class Migration(migrations.Migration):
    dependencies = [("negotiation", "0007_outbound_message_sealed")]

    operations = [migrations.RunPython(mask, unmask_unsent, elidable=False)]
