"""A promotion from the dashboard, in a real browser, with the real web server, Celery workers (the broadcasts
queue included) and the WhatsApp simulator: compose it for a segment, see its cost, send it, watch the progress
bar finish, open the funnel and turn a step of it into a segment for the next promotion."""

import re

import pytest
from django_tenants.utils import schema_context
from playwright.sync_api import expect

from crm.models import Contact, Label, Segment
from crm.services.segments import segment_queryset
from tests.factories import PASSWORD
from tests.support.servers import celery_worker, eventually, sim_call, simulator, web_server
from whatsapp.broadcasts.models import Recipient
from whatsapp.channel.services import connect
from whatsapp.models import MessageTemplate

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db]

NUMBER, SECRET, TOKEN, WABA = "106540000000888", "app-secret-promo", "token-promo", "WABA-PROMO"
BODY = "Halo {{1}}, koleksi Lebaran sudah datang! Diskon {{2}} khusus minggu ini."
LOYAL = [("Rina", "6281377700001"), ("Sari", "6281377700002"), ("", "6281377700003"), ("Dewi", "6281377700004")]
# Enough recipients that the send takes a few seconds at the number's 80 messages/s: the bar is seen moving.
MORE_LOYAL = 296
AUDIENCE = len(LOYAL) + MORE_LOYAL


@pytest.fixture(scope="module")
def promo(committed):
    """A shop with a connected number, an approved marketing template, 300 customers in a segment (one without a
    name, plus one more who opted out of promotions) and one customer outside it; the simulator, gunicorn and a
    worker on every queue, the broadcasts one included."""
    from tests.conftest import ShopWorld

    world = ShopWorld("promo")
    with schema_context(world.shop.schema_name):
        connect(world.shop, world.owner.pk, phone_number_id=NUMBER, waba_id=WABA,
                display_phone_number="6281100000888", access_token=TOKEN, app_secret=SECRET)  # fmt: skip
        MessageTemplate.objects.create(name="promo_lebaran", language="id", category="MARKETING", status="APPROVED",
                                       body_text=BODY, parameter_count=2,
                                       components=[{"type": "BODY", "text": BODY}])  # fmt: skip
        for name, wa_id in LOYAL:
            Contact.objects.create(name=name, wa_id=wa_id, phone=f"+{wa_id}", city="Bandung")
        Contact.objects.bulk_create(
            Contact(name=f"Pelanggan {n}", wa_id=f"62813888{n:05d}", phone=f"+62813888{n:05d}", city="Bandung")
            for n in range(MORE_LOYAL)
        )
        Contact.objects.create(name="Tono", wa_id="6281377700008", phone="+6281377700008", city="Bandung",
                               marketing_opt_out=True)  # fmt: skip
        Contact.objects.create(name="Budi", wa_id="6281377700009", phone="+6281377700009", city="Garut")
        world.segment = Segment.objects.create(
            name="Pelanggan Bandung",
            rules={"op": "and", "rules": [{"field": "city", "operator": "is", "value": "Bandung"}]},
        )
    with simulator(sent_ms="30", delivered_ms="60", read_ms="120") as sim:
        graph = {"WHATSAPP_GRAPH_BASE_URL": sim}
        with web_server(**graph) as web, celery_worker(queues="interactive,default,broadcasts", **graph):
            sim_call(sim, "POST", "/_sim/numbers", {
                "phone_number_id": NUMBER, "waba_id": WABA, "display_phone_number": "6281100000888",
                "verified_name": "Butik promo", "access_token": TOKEN, "app_secret": SECRET,
                "callback_url": f"{web}/webhooks/whatsapp/", "throughput_mps": 80,
            })  # fmt: skip
            sim_call(sim, "POST", "/_sim/templates", {"waba_id": WABA, "name": "promo_lebaran", "language": "id",
                                                      "category": "MARKETING", "body_text": BODY})  # fmt: skip
            world.sim, world.web = sim, web
            yield world


def phone(sim: str, wa_id: str) -> list[dict]:
    return sim_call(sim, "GET", f"/_sim/customers/{wa_id}/messages?phone_number_id={NUMBER}")


def test_owner_sends_a_promotion_to_a_segment_and_retargets_from_its_funnel(browser, promo, screenshots):
    port = promo.web.rsplit(":", 1)[1]
    base = f"http://{promo.host}:{port}"
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.goto(f"{base}/login")
    page.get_by_test_id("lang-switch").select_option("en")
    page.fill("#email", promo.owner.email)
    page.fill("#password", PASSWORD)
    page.get_by_test_id("login-submit").click()
    expect(page).to_have_url(re.compile(r"/inbox"))

    # 1. Compose: template, its two variables (a first name with a fallback, a fixed text), the segment.
    page.goto(f"{base}/broadcasts")
    page.get_by_test_id("broadcast-new").click()
    page.get_by_test_id("compose-name").fill("Koleksi Lebaran")
    page.get_by_test_id("compose-template").select_option(label="promo_lebaran (id)")
    page.get_by_test_id("variable-value-1").select_option("first_name")
    page.get_by_test_id("variable-fallback-1").fill("Kak")
    page.get_by_test_id("variable-source-2").select_option("text")
    page.get_by_test_id("variable-value-2").fill("20%")
    page.get_by_test_id(f"audience-segment-{promo.segment.pk}").click()
    screenshots.take(page, "compose")
    page.get_by_test_id("compose-review").click()

    # 2. Review: the recipients without the one who opted out, their cost against the balance, the text each reads.
    expect(page).to_have_url(re.compile(r"/broadcasts/\d+/review"))
    expect(page.get_by_test_id("review-recipients")).to_have_text(f"{AUDIENCE:,}")
    expect(page.get_by_test_id("review-excluded-opted_out")).to_contain_text("1")
    expect(page.get_by_test_id("review-market-62")).to_contain_text(f"{AUDIENCE:,}")
    expect(page.get_by_test_id("review-total")).to_have_text(re.compile(r"^Rp\s?[1-9][\d.]*$"))
    expect(page.get_by_test_id("review-balance")).to_have_text(re.compile(r"Rp\s?5\.000\.000"))
    expect(page.get_by_test_id("review-preview")).to_contain_text("Halo Rina, koleksi Lebaran sudah datang! Diskon 20%")
    expect(page.get_by_test_id("review-preview")).to_contain_text("Halo Kak, koleksi Lebaran")
    expect(page.get_by_test_id("review-refusal")).to_have_count(0)
    screenshots.take(page, "review")
    # A listener of our own on the dashboard's live stream, to see the progress events the page is fed.
    page.evaluate(
        "() => { window.progressEvents = []; new EventSource('/api/inbox/stream/').addEventListener("
        "'broadcast.progress', (e) => window.progressEvents.push(JSON.parse(e.data))); }"
    )
    page.get_by_test_id("review-send").click()

    # 3. Progress: the bar moves as the workers send (live events), then the broadcast completes.
    expect(page).to_have_url(re.compile(r"/broadcasts/\d+$"))
    broadcast_id = int(page.url.rsplit("/", 1)[1])
    bar = page.get_by_test_id("progress-bar")
    page.wait_for_function(
        "() => { const v = Number(document.querySelector('[data-testid=progress-bar]')?.getAttribute('aria-valuenow'));"
        " return v > 0 && v < 100; }",
        timeout=15_000,
    )
    expect(page.get_by_test_id("progress-rate")).to_contain_text("messages/s")
    screenshots.take(page, "progress-moving")
    expect(bar).to_have_attribute("aria-valuenow", "100", timeout=30_000)
    events = page.evaluate("() => window.progressEvents")
    assert any(e["broadcast_id"] == broadcast_id and 0 < e["sent"] < AUDIENCE for e in events), events[:3]
    expect(page.get_by_test_id("broadcast-status")).to_have_text("Completed", timeout=30_000)
    expect(page.get_by_test_id("progress-sent")).to_have_text(f"{AUDIENCE:,}")
    expect(page.get_by_test_id("progress-failed")).to_have_text("0")
    screenshots.take(page, "progress-done")
    received = phone(promo.sim, "6281377700003")
    assert [m["text"] for m in received if m["direction"] == "in"] == [
        "Halo Kak, koleksi Lebaran sudah datang! Diskon 20% khusus minggu ini."
    ]
    assert not phone(promo.sim, "6281377700009"), "a customer outside the segment got the promotion"
    assert not phone(promo.sim, "6281377700008"), "a customer who opted out got the promotion"

    # 4. Every message is read (the simulator's phones read at once); one customer answers.
    with schema_context(promo.shop.schema_name):
        read = Recipient.objects.filter(broadcast_id=broadcast_id, read_at__isnull=False)
        assert eventually(lambda: read.count() == AUDIENCE)
    sim_call(promo.sim, "POST", "/_sim/customers/6281377700001/messages",
             {"phone_number_id": NUMBER, "type": "text", "text": "mau kak, ada ukuran L?", "name": "Rina"})  # fmt: skip
    with schema_context(promo.shop.schema_name):
        assert eventually(
            lambda: Recipient.objects.filter(broadcast_id=broadcast_id, replied_at__isnull=False).exists()
        )

    # 5. The funnel: all sent, delivered and read; one replied.
    page.reload()
    for step in ("sent", "delivered", "read"):
        expect(page.get_by_test_id(f"funnel-{step}")).to_have_attribute("data-count", str(AUDIENCE))
    expect(page.get_by_test_id("funnel-replied")).to_have_attribute("data-count", "1")
    expect(page.get_by_test_id("results-cost-estimated")).to_have_text(re.compile(r"^Rp\s?[1-9]"))
    screenshots.take(page, "funnel")

    # 6. A segment of those who read it but did not answer, for the next promotion; it is there in Segments.
    page.get_by_test_id("retarget-create-read_no_reply").click()
    link = page.get_by_test_id("retarget-link-read_no_reply")
    expect(link).to_contain_text(f"({AUDIENCE - 1:,} contacts)")
    screenshots.take(page, "retargeted")
    link.click()
    expect(page).to_have_url(re.compile(r"/contacts/segments"))
    item = page.locator("[data-testid^=segment-item-]", has_text="Koleksi Lebaran · Read but no reply")
    expect(item).to_be_visible()
    item.click()
    expect(page.get_by_test_id("segment-contacts")).to_contain_text("Pelanggan")
    screenshots.take(page, "segment")
    with schema_context(promo.shop.schema_name):
        segment = Segment.objects.get(name="Koleksi Lebaran · Read but no reply")
        members = segment_queryset(segment.rules)
        assert members.count() == AUDIENCE - 1
        assert not members.filter(name="Rina").exists(), "the customer who replied is in the no-reply segment"
    page.context.close()


def test_owner_targets_an_uploaded_list_and_a_hand_picked_customer(browser, promo, screenshots):
    """The audience from a CSV of numbers (imported, labelled after the broadcast; an unreadable line reported by its
    number) plus a customer found by name; the review counts exactly them."""
    port = promo.web.rsplit(":", 1)[1]
    base = f"http://{promo.host}:{port}"
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.goto(f"{base}/login")
    page.get_by_test_id("lang-switch").select_option("en")
    page.fill("#email", promo.owner.email)
    page.fill("#password", PASSWORD)
    page.get_by_test_id("login-submit").click()
    expect(page).to_have_url(re.compile(r"/inbox"))

    page.goto(f"{base}/broadcasts/new")
    page.get_by_test_id("compose-name").fill("Daftar Reseller")
    page.get_by_test_id("compose-template").select_option(label="promo_lebaran (id)")
    page.get_by_test_id("variable-value-1").select_option("first_name")
    page.get_by_test_id("variable-fallback-1").fill("Kak")
    page.get_by_test_id("variable-source-2").select_option("text")
    page.get_by_test_id("variable-value-2").fill("10%")
    # Whoever the other promotion reached is not held back by the frequency cap here.
    page.get_by_test_id("compose-frequency-cap").fill("0")

    # Rina is a customer already (updated, not duplicated), Wulan is new, the last line has no usable number.
    csv = "Nama,No HP\nRina,081377700001\nWulan,0813 7770 0020\nDewi,12\n"
    page.get_by_test_id("import-file").set_input_files(
        {"name": "reseller.csv", "mimeType": "text/csv", "buffer": csv.encode()}
    )
    expect(page.get_by_test_id("import-mapping-No HP")).to_have_value("phone")
    expect(page.get_by_test_id("audience-upload-label")).to_contain_text("Broadcast: Daftar Reseller")
    page.get_by_test_id("import-start").click()
    expect(page.get_by_test_id("audience-upload-summary")).to_have_text(
        "2 contacts imported, 1 lines could not be read", timeout=20_000
    )
    rows = page.get_by_test_id("import-error-row")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("4")
    expect(page.get_by_test_id("audience-upload-added")).to_be_visible()
    with schema_context(promo.shop.schema_name):
        label = Label.objects.get(name="Broadcast: Daftar Reseller")
        assert sorted(label.contacts.values_list("wa_id", flat=True)) == ["6281377700001", "6281377700020"]
        assert Contact.objects.filter(wa_id="6281377700001").count() == 1
    expect(page.get_by_test_id(f"audience-label-{label.pk}")).to_have_attribute("aria-pressed", "true")

    # Budi, outside any segment, picked by name.
    page.get_by_test_id("audience-contact-search").fill("Budi")
    budi = page.locator("[data-testid^=audience-contact-search-option-]", has_text="Budi")
    budi.click()
    expect(page.get_by_test_id("audience-contacts-picked")).to_contain_text("Budi")
    screenshots.take(page, "compose-uploaded-list")
    page.get_by_test_id("compose-review").click()

    expect(page).to_have_url(re.compile(r"/broadcasts/\d+/review"))
    expect(page.get_by_test_id("review-recipients")).to_have_text("3")
    preview = page.get_by_test_id("review-preview")
    expect(preview).to_contain_text("Halo Wulan, koleksi Lebaran sudah datang! Diskon 10%")
    screenshots.take(page, "review-uploaded-list")
    page.context.close()
