"""Benchmark shops made by cloning a migrated pool schema are the migrated schema under another name, and work."""

import psycopg
import pytest
from django.db import connection
from django.test import Client
from django_tenants.utils import schema_context

from crm.models import Contact
from tenants import provisioning
from tenants.migration_executor import required_migrations, up_to_date_schemas
from tenants.models import Shop
from tests.benchmarks.bulk_shops import SchemaCloner, copy_rows, dump_schema, libpq_env
from tests.factories import PASSWORD, create_shop, signup_form
from whatsapp.models import Conversation

pytestmark = pytest.mark.django_db
JSON = {"content_type": "application/json", "HTTP_ACCEPT_LANGUAGE": "en"}


def newest_pool_schemas(count: int) -> list[str]:
    newest = Shop.objects.filter(status=Shop.Status.POOL).order_by("-id")[:count]
    return [shop.schema_name for shop in newest]


def sign_up_on(schema_name: str, **form):
    """Signup, with every other pool schema held by another transaction so that it claims `schema_name`."""
    from tenants.services.signup import sign_up

    conninfo = " ".join(f"{key.removeprefix('PG').lower()}={value}" for key, value in libpq_env().items())
    with psycopg.connect(conninfo.replace("database=", "dbname=")) as other, other.transaction():
        other.execute(
            f"SELECT id FROM public.{Shop._meta.db_table} WHERE status = 'pool' AND schema_name <> %s FOR UPDATE",
            [schema_name],
        )
        return sign_up(signup_form(**form))


@pytest.fixture(scope="module")
def clones(committed):
    """Two pool schemas cloned from one made now by every migration (committed: pg_dump reads them)."""
    template = provisioning.create_ready_schema().schema_name
    cloner = SchemaCloner(template)
    made = cloner.create_ready_schemas(2)
    return {"template": template, "dump": cloner.dump, "made": made, "schemas": newest_pool_schemas(2)}


@pytest.fixture(scope="module")
def cloned_shop(clones):
    """A shop signed up on a cloned schema, its inbox copied from a migrated shop with one conversation."""
    source, _ = create_shop(subdomain="toko-asal", email="asal@example.test")
    with schema_context(source.schema_name):
        contact = Contact.objects.create(name="Wulan Sari", phone="+6281311112222")
        Conversation.objects.create(contact=contact, last_message_at=contact.created_at, last_message_preview="Halo")
    clone = clones["schemas"][0]
    shop, owner = sign_up_on(clone, subdomain="toko-klon", email="klon@example.test")
    copy_rows(source.schema_name, clone, ["crm_contact", "whatsapp_conversation"])
    connection.set_schema_to_public()
    return {"shop": shop, "owner": owner, "clone": clone, "source": source, "contact_id": contact.pk}


def test_a_cloned_pool_schema_is_the_migrated_schema_under_another_name(clones):
    assert clones["made"] == 2
    template = clones["template"]
    assert template not in clones["schemas"]
    for clone in clones["schemas"]:
        # Tables, columns, indexes, constraints, identities and their positions, and the recorded rows.
        assert dump_schema(clone).replace(clone, template) == clones["dump"]
    # So migrate_schemas has nothing to apply to them.
    assert up_to_date_schemas(connection, clones["schemas"], required_migrations()) == set(clones["schemas"])


def test_a_shop_signed_up_on_a_cloned_schema_answers_its_inbox_and_takes_new_contacts(cloned_shop):
    shop, owner = cloned_shop["shop"], cloned_shop["owner"]
    assert shop.schema_name == cloned_shop["clone"]
    client = Client(HTTP_HOST=shop.primary_host)
    assert client.post("/api/auth/login/", {"email": owner.email, "password": PASSWORD}, **JSON).status_code == 200

    inbox = client.get("/api/inbox/conversations/")
    assert inbox.status_code == 200
    assert [c["last_message_preview"] for c in inbox.json()["results"]] == ["Halo"]
    # New rows get fresh ids past the copied ones; the unique phone still holds in the clone.
    created = client.post("/api/crm/contacts/", {"name": "Budi", "phone": "0812-9999-0000"}, **JSON)
    assert created.status_code == 201, created.content
    assert created.json()["id"] > cloned_shop["contact_id"]
    again = client.post("/api/crm/contacts/", {"name": "Wulan", "phone": "0813-1111-2222"}, **JSON)
    assert again.status_code == 400
    # The shop its inbox was copied from keeps its own contacts.
    with schema_context(cloned_shop["source"].schema_name):
        assert list(Contact.objects.values_list("name", flat=True)) == ["Wulan Sari"]
