from datetime import time

from django.db import migrations

POLICIES = [
    {
        "jurisdiction": "CN",
        "contact_start": time(8, 0),
        "contact_end": time(22, 0),
        "daily_attempt_limit": 6,
        "daily_conversation_limit": 3,
        "allowed_parties": ["debtor", "guarantor"],
        "contact_person_when_unreachable": True,
        "agreement_stops_collection": True,
        "retention_years": 2,
    },
    {
        "jurisdiction": "US",
        "contact_start": time(8, 0),
        "contact_end": time(21, 0),
        "weekly_attempt_limit": 7,
        "cooling_off_days": 7,
        "allowed_parties": ["debtor", "spouse", "attorney"],
        "location_calls": 1,
        "retention_years": 3,
    },
]


def ship_policies(apps, schema_editor):
    """Version 1 of the CN (default) and US (Regulation F) rule sets of DESIGN.md §6."""
    ContactPolicy = apps.get_model("compliance", "ContactPolicy")
    for values in POLICIES:
        ContactPolicy.objects.get_or_create(jurisdiction=values["jurisdiction"], version=1, defaults=values)


class Migration(migrations.Migration):
    dependencies = [("compliance", "0003_contactpolicy_contactdecision_hold_and_more")]

    operations = [migrations.RunPython(ship_policies, migrations.RunPython.noop)]
