"""Settings > Data: an owner exports the shop on a real Celery worker and downloads it through a short-lived
link; nobody else (an agent, a token, another shop's owner) can start or fetch it."""

import datetime as dt
import io
import json
import time
import zipfile

import pytest
from django.core import signing
from django.core.files.storage import default_storage
from django.test import Client
from django.utils import timezone

from billing.models import BillingAccount
from tenants.portability import services
from tenants.portability.models import ShopExport
from tenants.scopes import ALL_SCOPES
from tests.factories import PASSWORD, create_shop
from tests.support.servers import celery_worker, eventually

JSON = "application/json"


def old_link(export: ShopExport, minutes_ago: int) -> str:
    """A download link as it was handed out `minutes_ago`."""
    signer = signing.TimestampSigner(salt="tenants.portability.download")
    issued = signing.b62_encode(int(time.time()) - minutes_ago * 60)
    token = signing.Signer.sign(signer, f"{export.key}{signer.sep}{issued}")
    return f"/api/data/exports/{export.pk}/download/?token={token}"


@pytest.mark.django_db
def test_only_the_owner_may_start_or_list_exports(shop_a):
    for who in (shop_a.agent, shop_a.admin):
        client = shop_a.client(who)
        assert client.post("/api/data/exports/").status_code == 403
        assert client.get("/api/data/exports/").status_code == 403
    token = (
        shop_a.client(shop_a.owner)
        .post("/api/tokens/", {"name": "Integrasi", "scopes": list(ALL_SCOPES)}, content_type=JSON)
        .json()
    )
    integration = Client(HTTP_HOST=shop_a.host, HTTP_AUTHORIZATION=f"Bearer {token['token']}")
    assert integration.post("/api/data/exports/").status_code == 403
    assert Client(HTTP_HOST=shop_a.host).post("/api/data/exports/").status_code in (401, 403)
    assert not ShopExport.objects.filter(shop=shop_a.shop).exists()


@pytest.mark.django_db
def test_a_read_only_shop_can_still_take_its_data_out():
    shop, owner = create_shop()
    BillingAccount.objects.update_or_create(shop=shop, defaults={"subscription_status": "canceled"})
    client = Client(HTTP_HOST=shop.primary_host)
    assert (
        client.post("/api/auth/login/", {"email": owner.email, "password": PASSWORD}, content_type=JSON).status_code
        == 200
    )

    assert client.post("/api/tokens/", {"name": "x"}, content_type=JSON).status_code == 402
    started = client.post("/api/data/exports/")
    assert started.status_code == 202 and started.json()["status"] == "queued"


@pytest.mark.worker
def test_an_owner_exports_on_a_worker_and_downloads_it_once_ready(shop_a, shop_b, settings):
    # The file storage is the one every process of the suite shares (MEDIA_ROOT): any worker of the session
    # serving the default queue may take the task, as in production.
    owner = shop_a.client(shop_a.owner)
    with celery_worker(queues="default"):
        started = owner.post("/api/data/exports/")
        assert started.status_code == 202, started.content
        body = started.json()
        assert body["status"] in ("queued", "running", "ready") and body["requested_by"] == shop_a.owner.email
        # A second click while it runs is the same export, not another one.
        assert owner.post("/api/data/exports/").json()["id"] == body["id"]

        def ready():
            found = owner.get(f"/api/data/exports/{body['id']}/").json()
            return found if found["status"] in ("ready", "failed") else None

        done = eventually(ready, timeout=90)
    assert done and done["status"] == "ready", done
    assert done["progress"] == 100 and done["download_url"]
    assert owner.get("/api/data/exports/").json()[0]["id"] == body["id"]

    download = owner.get(done["download_url"])
    assert download.status_code == 200
    assert download["Content-Type"] == "application/zip"
    assert f'filename="{shop_a.shop.slug}-' in download["Content-Disposition"]
    with zipfile.ZipFile(io.BytesIO(b"".join(download.streaming_content))) as archive:
        manifest = json.loads(archive.read("manifest.json"))
    assert manifest["shop"]["slug"] == shop_a.shop.slug and "crm.Contact" in manifest["tables"]

    export = ShopExport.objects.get(pk=body["id"])
    # The owner's link is worthless to the shop's agent, to another shop's owner, and once it is old.
    assert shop_a.client(shop_a.agent).get(done["download_url"]).status_code == 403
    other_owner = shop_b.client(shop_b.owner)
    assert other_owner.get(done["download_url"]).status_code in (403, 404)
    assert other_owner.get(done["download_url"], HTTP_HOST=shop_a.host).status_code in (401, 403)
    assert other_owner.get(f"/api/data/exports/{export.pk}/").status_code == 404
    expired = owner.get(old_link(export, settings.SHOP_EXPORT_LINK_MINUTES + 1), HTTP_ACCEPT_LANGUAGE="en")
    assert expired.status_code == 403
    assert expired.json()["detail"] == "This download link has expired. Open Settings > Data for a new one."
    tampered = done["download_url"][:-3] + "abc"
    assert owner.get(tampered).status_code == 403

    # Past its keeping time the file is deleted and the link leads nowhere.
    ShopExport.objects.filter(pk=export.pk).update(expires_at=timezone.now() - dt.timedelta(minutes=1))
    assert services.expire_exports() >= 1
    assert not default_storage.exists(export.file_name)
    assert owner.get(f"/api/data/exports/{export.pk}/").json()["status"] == "expired"
    assert owner.get(done["download_url"]).status_code == 404
