"""Each conversation carries its contact's card, kept by the database, so the inbox list reads one table.

A database connection reads a table's catalog (its columns and every index the planner may use) the first
time it meets a shop's schema, and with a thousand shops nearly every inbox view is such a first time: the
contact table (28 columns, 13 indexes) was most of what that view paid for it. Triggers keep the copy, so
no way of changing a contact can forget it: staff edits, set-based CSV imports, merges, erasure, and the
service-window update of every customer message. The card's columns are listed once, here.

Both functions name the table's own schema (TG_TABLE_SCHEMA), whatever the caller's search_path.
"""

from django.db import migrations, models

CARD_COLUMNS = ["id", "name", "phone", "wa_id", "email", "source", "marketing_opt_out", "created_at", "last_inbound_at"]


def card_of(row: str) -> str:
    return "jsonb_build_object(" + ", ".join(f"'{column}', {row}.{column}" for column in CARD_COLUMNS) + ")"


# Column by column, not `(OLD.id, ...) IS DISTINCT FROM (NEW.id, ...)`: PostgreSQL stores that as nested ORs
# and prints them back flattened, so a schema replayed from pg_dump would differ from a migrated one.
CARD_CHANGED = " OR ".join(f"OLD.{column} IS DISTINCT FROM NEW.{column}" for column in CARD_COLUMNS)


TAKE_CARD = f"""
CREATE FUNCTION whatsapp_conversation_takes_card() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('SELECT {card_of("contact").replace("'", "''")} FROM %I.crm_contact AS contact WHERE contact.id = $1',
                   TG_TABLE_SCHEMA)
        INTO NEW.contact_card USING NEW.contact_id;
    NEW.contact_card := COALESCE(NEW.contact_card, '{{}}'::jsonb);
    RETURN NEW;
END $$;
CREATE TRIGGER conversation_takes_card BEFORE INSERT OR UPDATE OF contact_id ON whatsapp_conversation
    FOR EACH ROW EXECUTE FUNCTION whatsapp_conversation_takes_card();
"""

SEND_CARD = f"""
CREATE FUNCTION whatsapp_contact_sends_card() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('UPDATE %I.whatsapp_conversation SET contact_card = $1 WHERE contact_id = $2', TG_TABLE_SCHEMA)
        USING {card_of("NEW")}, NEW.id;
    RETURN NULL;
END $$;
CREATE TRIGGER contact_sends_card AFTER UPDATE ON crm_contact FOR EACH ROW
    WHEN ({CARD_CHANGED})
    EXECUTE FUNCTION whatsapp_contact_sends_card();
"""


class Migration(migrations.Migration):
    dependencies = [
        ("crm", "0014_drop_unused_contact_indexes"),
        ("whatsapp", "0004_conversation_inbox_index"),
    ]

    operations = [
        migrations.AddField(
            model_name="conversation",
            name="contact_card",
            field=models.JSONField(default=dict, editable=False),
        ),
        migrations.RunSQL(
            [TAKE_CARD, SEND_CARD, "UPDATE whatsapp_conversation SET contact_id = contact_id"],
            [
                "DROP TRIGGER contact_sends_card ON crm_contact",
                "DROP FUNCTION whatsapp_contact_sends_card()",
                "DROP TRIGGER conversation_takes_card ON whatsapp_conversation",
                "DROP FUNCTION whatsapp_conversation_takes_card()",
            ],
        ),
    ]
