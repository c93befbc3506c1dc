"""The tasks that told an offer's maker it was approved or rejected carried the text in the decider's language;
they become the offer_approved / offer_rejected codes with the offer kind's source text."""

from django.db import migrations


def notes_to_codes(apps, schema_editor):
    from django.utils import translation

    from compliance.reasons import reason_match

    labels = {}
    for _value, label in apps.get_model("plans", "Offer")._meta.get_field("kind").choices:
        labels[str(label)] = str(label)
        with translation.override("zh-hans"):
            labels[translation.gettext(str(label))] = str(label)
    task = apps.get_model("negotiation", "FollowUpTask")
    changed = []
    rows = task.objects.filter(note_code="", kind="other").exclude(note="").only("pk", "note")
    for row in rows.iterator(chunk_size=2000):
        found = reason_match(row.note, codes=("offer_approved", "offer_rejected"), labels=labels)
        if found:
            row.note_code, row.note_params = found
            changed.append(row)
    task.objects.bulk_update(changed, ["note_code", "note_params"], batch_size=2000)


def codes_cleared(apps, schema_editor):
    # The stored notes were never changed, so going back only forgets the codes.
    apps.get_model("negotiation", "FollowUpTask").objects.filter(
        note_code__in=["offer_approved", "offer_rejected"]
    ).update(note_code="", note_params={})


class Migration(migrations.Migration):
    dependencies = [
        ("plans", "0004_portal_link_code_failures"),
        ("negotiation", "0010_task_note_codes"),
    ]

    operations = [migrations.RunPython(notes_to_codes, codes_cleared)]
