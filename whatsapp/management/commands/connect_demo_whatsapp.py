"""Connects the demo shop's WhatsApp to the local simulator, with auto-replies and templates to try."""

import json
import urllib.request

from django.conf import settings
from django.core.management.base import BaseCommand
from django_tenants.utils import schema_context

from tenants.models import Shop
from whatsapp import templates
from whatsapp.channel.services import connect
from whatsapp.models import AutoReplyRule, QuickReply

NUMBER = {
    "phone_number_id": "100000000000001",
    "waba_id": "200000000000001",
    "display_phone_number": "6281100000001",
    "verified_name": "Butik Sari",
    "access_token": "demo-access-token",
    "app_secret": "demo-app-secret",
}
TEMPLATES = [
    {"name": "pesanan_dikirim", "language": "id", "category": "UTILITY", "status": "APPROVED",
     "body_text": "Halo {{1}}, pesanan {{2}} sudah dikirim. Nomor resi: {{3}}."},
    {"name": "promo_koleksi_baru", "language": "id", "category": "MARKETING", "status": "APPROVED",
     "body_text": "Halo {{1}}! Koleksi baru sudah datang. Balas PROMO untuk katalog."},
]  # fmt: skip
RULES = [
    {"name": "Salam", "kind": "greeting", "priority": 10, "cooldown_minutes": 720,
     "reply_text": "Halo kak, selamat datang di Butik Sari! Mau lihat katalog atau tanya harga?",
     "reply_buttons": ["Lihat katalog", "Tanya harga"]},
    {"name": "Harga", "kind": "keyword", "priority": 20, "cooldown_minutes": 10, "keywords": ["harga", "berapa"],
     "reply_text": "Gamis mulai 150rb, hijab mulai 45rb kak. Mau ukuran apa?"},
    {"name": "Ongkir", "kind": "keyword", "priority": 30, "cooldown_minutes": 10, "keywords": ["ongkir", "kirim"],
     "reply_text": "Ongkir Jabodetabek 10rb, luar kota mulai 18rb kak."},
]  # fmt: skip


def _sim(base: str, path: str, body: dict) -> None:
    request = urllib.request.Request(  # noqa: S310 - the local simulator
        base + path, data=json.dumps(body).encode(), method="POST", headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=5):  # noqa: S310
        pass


class Command(BaseCommand):
    help = "Register the demo shop's number with the WhatsApp simulator and connect it. Idempotent."

    def handle(self, *args, **options):
        shop = Shop.objects.get(slug="demo")
        base = settings.WHATSAPP_GRAPH_BASE_URL.rstrip("/")
        callback = f"{settings.PLATFORM_SCHEME}://{settings.PLATFORM_DOMAIN}/webhooks/whatsapp/"
        _sim(base, "/_sim/numbers", {**NUMBER, "callback_url": callback, "throughput_mps": 80})
        for template in TEMPLATES:
            _sim(base, "/_sim/templates", {"waba_id": NUMBER["waba_id"], **template})
        with schema_context(shop.schema_name):
            account = connect(shop, None, **{k: v for k, v in NUMBER.items() if k != "verified_name"})
            for rule in RULES:
                AutoReplyRule.objects.get_or_create(name=rule["name"], defaults=rule)
            QuickReply.objects.get_or_create(shortcut="ongkir", defaults={"text": "Ongkir Jabodetabek 10rb kak."})
            QuickReply.objects.get_or_create(
                shortcut="rekening", defaults={"text": "Transfer ke BCA 1234567890 a.n. Sari."}
            )
            synced = templates.sync(account)
        self.stdout.write(f"  WhatsApp demo: customer phone at {base}/  ({synced} templates synced)")
