"""The first-contact transitions a logged contact took carried its outcome's label as their reason, in the
logging person's language; they become the contact_outcome code with the label's source text."""

from django.db import migrations


def labels_to_codes(apps, schema_editor):
    from django.utils import translation

    transition = apps.get_model("cases", "CaseTransition")
    labels = {}
    for _value, label in apps.get_model("negotiation", "Contact")._meta.get_field("outcome").choices:
        labels[str(label)] = str(label)
        with translation.override("zh-hans"):
            labels[translation.gettext(str(label))] = str(label)
    changed = []
    rows = transition.objects.filter(name="record_first_contact", reason_code="", reason__in=list(labels))
    for step in rows.only("pk", "reason").iterator(chunk_size=2000):
        step.reason_code, step.reason_params = "contact_outcome", {"outcome": labels[step.reason]}
        changed.append(step)
    transition.objects.bulk_update(changed, ["reason_code", "reason_params"], batch_size=2000)


def codes_cleared(apps, schema_editor):
    # The stored text was never changed, so going back only forgets the codes.
    apps.get_model("cases", "CaseTransition").objects.filter(reason_code="contact_outcome").update(
        reason_code="", reason_params={}
    )


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0005_transition_reason_code"),
        ("negotiation", "0008_mask_stored_secrets"),
    ]

    operations = [migrations.RunPython(labels_to_codes, codes_cleared)]
