from django.db import migrations

# The columns of Agreement.SIGNATURE_FIELDS; status, missed_count and ended_at may still change.
COLUMNS = ("case_id", "offer_id", "number", "pdf", "sha256", "signer_name", "signed_at", "signer_ip",
           "signer_user_agent", "code_id")
CREATE = """
CREATE OR REPLACE FUNCTION plans_agreement_signature_immutable() RETURNS trigger AS $$
BEGIN
    IF {changed} THEN
        RAISE EXCEPTION 'a signed agreement''s signature cannot change (agreement %%)', OLD.id;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER plans_agreement_signature_immutable
    BEFORE UPDATE ON plans_agreement
    FOR EACH ROW EXECUTE FUNCTION plans_agreement_signature_immutable();
""".format(changed=" OR ".join(f"OLD.{column} IS DISTINCT FROM NEW.{column}" for column in COLUMNS))
DROP = """
DROP TRIGGER IF EXISTS plans_agreement_signature_immutable ON plans_agreement;
DROP FUNCTION IF EXISTS plans_agreement_signature_immutable();
"""


def create_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    """On PostgreSQL the database itself refuses a change to what the cardholder signed."""

    dependencies = [("plans", "0001_initial")]

    operations = [migrations.RunPython(create_trigger, drop_trigger)]
