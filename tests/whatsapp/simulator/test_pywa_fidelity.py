"""Fidelity: every webhook the simulator emits parses with pywa, an independent implementation of Meta's format.

pywa's own dispatch is used: `WhatsApp._get_handler_type(raw)` picks the handler the way its server does, then
`<Update>.from_update(client, raw)` builds the typed update. Signatures are checked with pywa's validator too.
"""

from __future__ import annotations

import warnings

import pytest

from .harness import PNID, SECRET, WABA, Harness, Received, harness_fixture, sim_fixture  # noqa: F401

pywa = pytest.importorskip("pywa")
from pywa import WhatsApp, handlers, utils  # noqa: E402
from pywa._logging import get_update_hash  # noqa: E402
from pywa.types import (  # noqa: E402
    CallbackButton,
    CallbackSelection,
    Message,
    MessageStatus,
    MessageStatusType,
    MessageType,
)
from pywa.types.base_update import RawUpdate  # noqa: E402

CUSTOMER = "6281234567890"


@pytest.fixture(scope="module")
def wa() -> WhatsApp:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return WhatsApp(phone_id=PNID, token="dummy-token", server=None)


def parse(wa: WhatsApp, item: Received):
    assert utils.webhook_updates_validator(SECRET, item.body, item.headers["X-Hub-Signature-256"])
    raw = RawUpdate(item.body, hmac_header=item.headers["X-Hub-Signature-256"], update_hash=get_update_hash(item.body))
    assert raw.id == WABA
    handler_type = wa._get_handler_type(raw)
    assert handler_type is not None, item.json
    return handler_type, wa._handlers_to_updates[handler_type].from_update(client=wa, update=raw)


def inbound(sim: Harness, wa: WhatsApp, **body):
    before = len(sim.receiver.snapshot())
    status, answer = sim.post(f"/_sim/customers/{CUSTOMER}/messages", {"phone_number_id": PNID, "name": "Sári"} | body)
    assert status == 200, answer

    def carries_it(item: Received) -> bool:
        return any(m["id"] == answer["id"] for m in item.json["entry"][0]["changes"][0]["value"].get("messages", []))

    items = sim.receiver.wait_for(lambda items: any(carries_it(i) for i in items[before:]))
    handler_type, update = parse(wa, next(i for i in items[before:] if carries_it(i)))
    assert update.id == answer["id"]
    assert update.metadata.phone_number_id == PNID
    assert update.waba_id == WABA
    return handler_type, update


def test_inbound_messages_of_every_type_parse_with_pywa(sim: Harness, wa: WhatsApp):
    handler_type, msg = inbound(sim, wa, type="text", text="Kak, ada warna lain?")
    assert handler_type is handlers.MessageHandler and isinstance(msg, Message)
    assert msg.type == MessageType.TEXT and msg.text == "Kak, ada warna lain?"
    assert msg.from_user.wa_id == CUSTOMER and msg.from_user.name == "Sári"
    assert msg.from_user.bsuid.startswith("ID.")

    _, msg = inbound(sim, wa, type="image", caption="Yang ini")
    assert msg.type == MessageType.IMAGE and msg.image.caption == "Yang ini" and msg.image.mime_type == "image/png"
    _, msg = inbound(sim, wa, type="document", filename="katalog.pdf")
    assert msg.type == MessageType.DOCUMENT and msg.document.filename == "katalog.pdf"
    for media_type in ("audio", "video", "sticker"):
        _, msg = inbound(sim, wa, type=media_type)
        assert msg.type == MessageType(media_type) and getattr(msg, media_type).sha256
    _, msg = inbound(sim, wa, type="location", latitude=-6.2, longitude=106.8, name="Toko", address="Jl. Sabang")
    assert msg.type == MessageType.LOCATION and msg.location.latitude == -6.2 and msg.location.name == "Toko"

    # business sends an interactive button message, a list and a template; the customer answers each
    sim.send(
        {
            "to": CUSTOMER,
            "type": "interactive",
            "interactive": {
                "type": "button",
                "body": {"text": "Mau warna apa?"},
                "action": {"buttons": [{"type": "reply", "reply": {"id": "merah", "title": "Merah"}}]},
            },
        }
    )
    _, thread = sim.get(f"/_sim/customers/{CUSTOMER}/messages?phone_number_id={PNID}")
    button_msg = thread[-1]["id"]
    assert thread[-1]["interactive"]["buttons"] == [{"id": "merah", "title": "Merah"}]
    handler_type, cb = inbound(
        sim, wa, type="interactive", interactive_type="button_reply", reply_id="merah", title="Merah"
    )
    assert handler_type is handlers.CallbackButtonHandler and isinstance(cb, CallbackButton)
    assert cb.data == "merah" and cb.title == "Merah" and cb.reply_to_message.id == button_msg

    sim.send(
        {
            "to": CUSTOMER,
            "type": "interactive",
            "interactive": {
                "type": "list",
                "body": {"text": "Pilih ukuran"},
                "action": {
                    "button": "Ukuran",
                    "sections": [{"title": "Ukuran", "rows": [{"id": "m", "title": "M", "description": "Sedang"}]}],
                },
            },
        }
    )
    handler_type, sel = inbound(sim, wa, type="list_reply", reply_id="m", title="M", description="Sedang")
    assert handler_type is handlers.CallbackSelectionHandler and isinstance(sel, CallbackSelection)
    assert sel.data == "m" and sel.description == "Sedang"

    sim.post(
        "/_sim/templates",
        {"waba_id": WABA, "name": "konfirmasi", "language": "id", "category": "UTILITY", "body_text": "Pesanan?",
         "buttons": ["Ya", "Tidak"]},
    )  # fmt: skip
    status, _ = sim.send(
        {"to": CUSTOMER, "type": "template", "template": {"name": "konfirmasi", "language": {"code": "id"}}}
    )
    assert status == 200
    handler_type, cb = inbound(sim, wa, type="button", text="Ya", payload="YES")
    assert handler_type is handlers.CallbackButtonHandler and cb.data == "YES" and cb.title == "Ya"

    _, msg = inbound(sim, wa, type="reaction", emoji="❤️", message_id=button_msg)
    assert msg.type == MessageType.REACTION and msg.reaction.emoji == "❤️"
    assert msg.reaction.message_id == button_msg

    _, msg = inbound(sim, wa, type="text", text="balas", context_id=button_msg)
    assert msg.reply_to_message.id == button_msg

    # a "username" customer: no wa_id, only the business-scoped user id
    sim.post(f"/_sim/customers/{CUSTOMER}", {"username_only": True})
    _, msg = inbound(sim, wa, type="text", text="halo")
    assert msg.from_user.wa_id is None and msg.from_user.bsuid.startswith("ID.")


def test_statuses_of_every_kind_parse_with_pywa(sim: Harness, wa: WhatsApp):
    sim.customer_says(CUSTOMER)
    sim.post(
        "/_sim/templates",
        {"waba_id": WABA, "name": "promo", "language": "id", "category": "MARKETING", "body_text": "Halo {{1}}"},
    )
    sends = [
        {"to": CUSTOMER, "type": "text", "text": {"body": "Halo"}, "biz_opaque_callback_data": "c-1"},
        {
            "to": CUSTOMER,
            "type": "template",
            "template": {
                "name": "promo",
                "language": {"code": "id"},
                "components": [{"type": "body", "parameters": [{"type": "text", "text": "Sari"}]}],
            },
        },
        {"to": "628991234567", "type": "text", "text": {"body": "Halo"}},  # not on WhatsApp -> failed 131026
    ]
    wamids = []
    for body in sends:
        status, answer = sim.send(body)
        assert status == 200, answer
        wamids.append(answer["messages"][0]["id"])
    sim.post("/_sim/faults", {"window_error_mode": "webhook"})
    status, answer = sim.send({"to": "6281200000000", "type": "text", "text": {"body": "Halo"}})  # no window
    wamids.append(answer["messages"][0]["id"])

    def status_items():
        return [i for i in sim.receiver.snapshot() if "statuses" in i.json["entry"][0]["changes"][0]["value"]]

    sim.receiver.wait_for(lambda _: len(status_items()) >= 3 + 3 + 1 + 1)
    parsed: dict[str, list[MessageStatus]] = {}
    for item in status_items():
        handler_type, st = parse(wa, item)
        assert handler_type is handlers.MessageStatusHandler and isinstance(st, MessageStatus)
        parsed.setdefault(st.id, []).append(st)

    text_statuses = {s.status: s for s in parsed[wamids[0]]}
    assert set(text_statuses) == {MessageStatusType.SENT, MessageStatusType.DELIVERED, MessageStatusType.READ}
    assert text_statuses[MessageStatusType.SENT].pricing.category == "service"
    assert text_statuses[MessageStatusType.SENT].pricing.billable is False
    assert text_statuses[MessageStatusType.READ].pricing is None
    assert text_statuses[MessageStatusType.SENT].tracker == "c-1"
    assert text_statuses[MessageStatusType.SENT].from_user.wa_id == CUSTOMER

    template_sent = next(s for s in parsed[wamids[1]] if s.status == MessageStatusType.SENT)
    assert template_sent.pricing.category == "marketing" and template_sent.pricing.billable is True

    [failed] = parsed[wamids[2]]
    assert failed.status == MessageStatusType.FAILED and failed.error.code == 131026
    assert failed.from_user.bsuid is None
    [window] = parsed[wamids[3]]
    assert window.status == MessageStatusType.FAILED and window.error.code == 131047
