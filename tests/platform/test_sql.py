"""Plain SQL for the hottest paths reads and writes rows exactly as the ORM would."""

import datetime as dt

import pytest
from django.db import connection

from config.sql import fetch, insert_once
from crm.models import Contact
from whatsapp.models import Conversation

pytestmark = pytest.mark.django_db


def table_columns(model) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {model._meta.db_table} LIMIT 0")
        return [column.name for column in cursor.description]


def test_whole_rows_come_back_as_the_orm_reads_them_whatever_the_tables_column_order(shop_a, in_shop):
    with in_shop(shop_a.shop):
        # Migrations appended columns the model declares earlier: a row's order is not the model's.
        assert table_columns(Contact) != [field.column for field in Contact._meta.concrete_fields]
        sari = Contact.objects.create(
            name="Sari", phone="+6281277770001", phone_digits="81277770001", wa_id="6281277770001",
            email="sari@example.test", city="Bandung", order_count=3, total_spent=450_000,
            last_inbound_at=dt.datetime(2026, 11, 30, 8, tzinfo=dt.UTC),
        )  # fmt: skip
        thread = Conversation.objects.create(contact=sari, unread_count=2)

        [read] = fetch(Contact, f"SELECT * FROM {Contact._meta.db_table} WHERE id = %s", [sari.pk])
        [read_thread] = fetch(Conversation, f"SELECT * FROM {Conversation._meta.db_table} WHERE id = %s", [thread.pk])
        [part] = fetch(Contact, f"SELECT wa_id, id, city FROM {Contact._meta.db_table} WHERE id = %s", [sari.pk])

    orm = Contact.objects.filter(pk=sari.pk)
    with in_shop(shop_a.shop):
        expected = orm.values().get()
        assert {field.attname: getattr(read, field.attname) for field in Contact._meta.concrete_fields} == expected
        assert (read_thread.contact_id, read_thread.unread_count, read_thread.status) == (sari.pk, 2, "open")
        assert (part.pk, part.wa_id, part.city) == (sari.pk, "6281277770001", "Bandung")


def test_an_insert_carries_its_follow_up_statements_only_when_the_row_is_new(shop_a, in_shop):
    with in_shop(shop_a.shop):
        budi = Contact.objects.create(name="Budi", wa_id="6281277770002")
        count_up = (f"UPDATE {Contact._meta.db_table} SET order_count = order_count + 1 "
                    "WHERE id = %s AND EXISTS (SELECT FROM new)", [budi.pk])  # fmt: skip

        first = Conversation(contact=budi)
        assert insert_once(first, "contact_id", then=[count_up])
        assert not insert_once(Conversation(contact=budi), "contact_id", then=[count_up])  # taken: nothing follows

        assert Conversation.objects.get(contact=budi).pk == first.pk
        assert Contact.objects.get(pk=budi.pk).order_count == 1
