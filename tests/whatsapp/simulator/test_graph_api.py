"""The simulator's Graph API surface, signed webhooks and control plane, against the protocol note."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
import urllib.request
import uuid

from .harness import DISPLAY, PNID, SECRET, TOKEN, WABA, Harness, harness_fixture, sim_fixture  # noqa: F401

CUSTOMER = "6281234567890"
WAMID_RE = re.compile(r"^wamid\.[A-Za-z0-9+/=_-]+$")


def text_to(to: str, body: str = "Halo kak", **extra) -> dict:
    return {"to": to, "type": "text", "text": {"body": body}, **extra}


def assert_graph_error(body: dict, code: int) -> None:
    assert set(body) == {"error"}
    err = body["error"]
    assert err["code"] == code
    assert isinstance(err["message"], str) and err["message"]
    assert err["type"] in ("OAuthException", "GraphMethodException")
    assert isinstance(err["error_data"]["details"], str)
    assert err["error_data"]["messaging_product"] == "whatsapp"
    assert isinstance(err["fbtrace_id"], str) and err["fbtrace_id"]


def statuses_for(sim: Harness, wamid: str) -> list[dict]:
    return [s for s in sim.receiver.statuses() if s["id"] == wamid]


# signatures and envelope -------------------------------------------------------------------------


def test_inbound_webhook_is_signed_ascii_escaped_and_shaped_like_meta(sim: Harness):
    wamid = sim.customer_says(CUSTOMER, "Kak, gamis ini ada warna lain? ✨", name="Sári")
    [item] = sim.receiver.wait_for(lambda items: len(items) >= 1)

    expected = "sha256=" + hmac.new(SECRET.encode(), item.body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(item.headers["X-Hub-Signature-256"], expected)
    assert item.headers["Content-Type"] == "application/json"
    item.body.decode("ascii")  # pure ASCII on the wire
    assert b"S\\u00e1ri" in item.body
    assert b"\\u2728" in item.body
    # compact, ASCII-escaped serialisation: re-serialising the parsed body gives the same bytes
    assert item.body == json.dumps(json.loads(item.body), ensure_ascii=True, separators=(",", ":")).encode()

    payload = item.json
    assert payload["object"] == "whatsapp_business_account"
    [entry] = payload["entry"]
    assert entry["id"] == WABA
    [change] = entry["changes"]
    assert change["field"] == "messages"
    value = change["value"]
    assert value["messaging_product"] == "whatsapp"
    assert value["metadata"] == {"display_phone_number": DISPLAY, "phone_number_id": PNID}
    [contact] = value["contacts"]
    assert contact["profile"] == {"name": "Sári"}
    assert contact["wa_id"] == CUSTOMER
    assert re.match(r"^ID\.\d{16}$", contact["user_id"])
    [msg] = value["messages"]
    assert msg["from"] == CUSTOMER
    assert msg["id"] == wamid and WAMID_RE.match(wamid)
    assert isinstance(msg["timestamp"], str) and msg["timestamp"].isdigit()
    assert msg["type"] == "text"
    assert msg["text"] == {"body": "Kak, gamis ini ada warna lain? ✨"}


def test_username_only_customer_has_no_phone_number_in_webhooks(sim: Harness):
    status, body = sim.post(f"/_sim/customers/{CUSTOMER}", {"username_only": True, "username": "sari.butik"})
    assert status == 200 and body["username_only"] is True
    sim.customer_says(CUSTOMER, "halo")
    [item] = sim.receiver.wait_for(lambda items: len(items) >= 1)
    value = item.json["entry"][0]["changes"][0]["value"]
    [contact] = value["contacts"]
    assert "wa_id" not in contact
    assert contact["user_id"].startswith("ID.")
    assert contact["profile"]["username"] == "sari.butik"
    [msg] = value["messages"]
    assert "from" not in msg
    assert msg["from_user_id"] == contact["user_id"]

    # the business can answer with the business-scoped user id
    status, body = sim.send({"to": contact["user_id"], "type": "text", "text": {"body": "Halo"}})
    assert status == 200, body
    assert body["contacts"] == [{"input": contact["user_id"], "user_id": contact["user_id"]}]
    wamid = body["messages"][0]["id"]
    sim.receiver.wait_for(lambda _: any(s["status"] == "sent" for s in statuses_for(sim, wamid)))
    [sent] = [s for s in statuses_for(sim, wamid) if s["status"] == "sent"]
    assert "recipient_id" not in sent
    assert sent["recipient_user_id"] == contact["user_id"]


# sending ---------------------------------------------------------------------------------------


def test_send_success_shape(sim: Harness):
    sim.customer_says(CUSTOMER)
    status, body = sim.send(text_to("+62 812-3456-7890"))
    assert status == 200
    assert set(body) == {"messaging_product", "contacts", "messages"}
    assert body["messaging_product"] == "whatsapp"
    assert body["contacts"] == [{"input": "+62 812-3456-7890", "wa_id": CUSTOMER}]
    [message] = body["messages"]
    assert set(message) == {"id", "message_status"}
    assert message["message_status"] == "accepted"
    assert WAMID_RE.match(message["id"])

    for version in ("v26.0", "v19.0"):
        status, other = sim.send(text_to(CUSTOMER), version=version)
        assert status == 200
        assert other["messages"][0]["id"] != message["id"]


def test_wrong_or_missing_token_is_401_code_190(sim: Harness):
    for token in ("wrong", None):
        status, body = sim.post(
            f"/v25.0/{PNID}/messages", {"messaging_product": "whatsapp", **text_to(CUSTOMER)}, token
        )
        assert status == 401
        assert_graph_error(body, 190)
        assert body["error"]["type"] == "OAuthException"
    status, body = sim.get(f"/v25.0/{PNID}", token="wrong")
    assert status == 401
    assert_graph_error(body, 190)


def test_unknown_phone_number_id_is_400_code_100(sim: Harness):
    status, body = sim.send(text_to(CUSTOMER), pnid="999999999999")
    assert status == 400
    assert_graph_error(body, 100)
    assert "Unsupported post request" in body["error"]["message"]


def test_body_validation(sim: Harness):
    sim.customer_says(CUSTOMER)
    cases = [
        ({"messaging_product": "sms", "to": CUSTOMER, "type": "text", "text": {"body": "x"}}, 100),
        ({"type": "text", "text": {"body": "x"}}, 100),
        ({"to": CUSTOMER, "type": "poll", "poll": {}}, 100),
        ({"to": CUSTOMER, "type": "text", "text": {}}, 100),
        ({"to": CUSTOMER, "type": "text", "text": {"body": "x" * 4097}}, 100),
        (
            {
                "to": CUSTOMER,
                "type": "interactive",
                "interactive": {
                    "type": "button",
                    "body": {"text": "Pilih"},
                    "action": {
                        "buttons": [{"type": "reply", "reply": {"id": f"b{i}", "title": f"B{i}"}} for i in range(4)]
                    },
                },
            },
            131009,
        ),
        (
            {
                "to": CUSTOMER,
                "type": "interactive",
                "interactive": {
                    "type": "button",
                    "body": {"text": "Pilih"},
                    "action": {"buttons": [{"type": "reply", "reply": {"id": "b", "title": "x" * 21}}]},
                },
            },
            131009,
        ),
        (
            {
                "to": CUSTOMER,
                "type": "interactive",
                "interactive": {
                    "type": "list",
                    "body": {"text": "Menu"},
                    "action": {
                        "button": "Lihat",
                        "sections": [{"title": "A", "rows": [{"id": f"r{i}", "title": f"R{i}"} for i in range(11)]}],
                    },
                },
            },
            131009,
        ),
        (
            {
                "to": CUSTOMER,
                "type": "interactive",
                "interactive": {
                    "type": "list",
                    "body": {"text": "Menu"},
                    "action": {"button": "Lihat", "sections": [{"rows": [{"id": "r", "title": "y" * 25}]}]},
                },
            },
            131009,
        ),
    ]
    for body, code in cases:
        body = {"messaging_product": "whatsapp", **body}
        status, answer = sim.post(f"/v25.0/{PNID}/messages", body, token=TOKEN)
        assert status == 400, (body, answer)
        assert_graph_error(answer, code)
    status, _ = sim.send(text_to(CUSTOMER, "x" * 4096))
    assert status == 200


def test_customer_service_window_131047_after_aging(sim: Harness):
    status, body = sim.send(text_to(CUSTOMER))  # never wrote
    assert status == 400
    assert_graph_error(body, 131047)

    sim.customer_says(CUSTOMER)
    assert sim.send(text_to(CUSTOMER))[0] == 200

    status, info = sim.post(f"/_sim/customers/{CUSTOMER}", {"last_message_age_seconds": 90000})
    assert status == 200
    assert info["windows"][PNID]["window_open"] is False
    status, body = sim.send(text_to(CUSTOMER))
    assert status == 400
    assert_graph_error(body, 131047)

    sim.post(f"/_sim/customers/{CUSTOMER}", {"last_message_age_seconds": 86000})
    assert sim.send(text_to(CUSTOMER))[0] == 200


def test_window_error_as_failed_status_when_configured(sim: Harness):
    sim.post("/_sim/faults", {"window_error_mode": "webhook"})
    status, body = sim.send(text_to(CUSTOMER))
    assert status == 200
    wamid = body["messages"][0]["id"]
    sim.receiver.wait_for(lambda _: statuses_for(sim, wamid))
    [failed] = statuses_for(sim, wamid)
    assert failed["status"] == "failed" and failed["errors"][0]["code"] == 131047


def test_not_on_whatsapp_is_accepted_then_failed_131026(sim: Harness):
    sim.post("/_sim/customers/6281299999999", {"not_on_whatsapp": True})
    for to in ("6281299999999", "628991234567"):
        status, body = sim.send(text_to(to))
        assert status == 200, body
        wamid = body["messages"][0]["id"]
        sim.receiver.wait_for(lambda _, w=wamid: statuses_for(sim, w))
        [failed] = statuses_for(sim, wamid)
        assert failed["status"] == "failed"
        assert failed["recipient_id"] == to
        assert "pricing" not in failed
        [error] = failed["errors"]
        assert error["code"] == 131026
        assert error["title"] and error["message"]
        assert error["error_data"]["details"]


def test_throughput_130429_and_stats(sim: Harness):
    sim.post("/_sim/numbers", {"phone_number_id": PNID, "throughput_mps": 5})
    sim.customer_says(CUSTOMER)
    results = [sim.send(text_to(CUSTOMER)) for _ in range(20)]
    limited = [body for status, body in results if status == 400]
    accepted = [body for status, body in results if status == 200]
    assert limited, "expected some 130429"
    assert 5 <= len(accepted) < 20
    for body in limited:
        assert_graph_error(body, 130429)
        assert body["error"]["message"] == "(#130429) Rate limit hit"
    _, stats = sim.get("/_sim/stats")
    assert stats["rate_limited"] == len(limited)
    assert stats["messages_accepted"][PNID] == len(accepted)
    assert stats["max_accepted_per_second"][PNID] >= 5
    assert stats["graph_requests"] >= 20

    status, _ = sim.post("/_sim/numbers", {"phone_number_id": PNID, "throughput_mps": 5000})
    assert status == 400


def test_templates_132001_132000_paused_disabled_and_pricing(sim: Harness):
    sim.post(
        "/_sim/templates",
        {
            "waba_id": WABA,
            "name": "promo_lebaran",
            "language": "id",
            "category": "MARKETING",
            "status": "APPROVED",
            "body_text": "Halo {{1}}, diskon {{2}} untuk Lebaran!",
        },
    )

    def template(name="promo_lebaran", lang="id", params=("Sari", "20%")):
        components = [{"type": "body", "parameters": [{"type": "text", "text": p} for p in params]}]
        return {
            "to": CUSTOMER,
            "type": "template",
            "template": {"name": name, "language": {"code": lang}, "components": components},
        }

    status, body = sim.send(template(name="nope"))
    assert status == 400
    assert_graph_error(body, 132001)
    status, body = sim.send(template(lang="en"))
    assert_graph_error(body, 132001)
    status, body = sim.send(template(params=("Sari",)))
    assert status == 400
    assert_graph_error(body, 132000)

    # templates need no open window; pricing is regular + category
    status, body = sim.send(
        template(),
    )
    assert status == 200
    wamid = body["messages"][0]["id"]
    sim.receiver.wait_for(lambda _: {s["status"] for s in statuses_for(sim, wamid)} >= {"sent", "delivered", "read"})
    by_status = {s["status"]: s for s in statuses_for(sim, wamid)}
    expected = {"billable": True, "pricing_model": "PMP", "type": "regular", "category": "marketing"}
    assert by_status["sent"]["pricing"] == expected
    assert by_status["delivered"]["pricing"] == expected
    assert "pricing" not in by_status["read"]
    _, thread = sim.get(f"/_sim/customers/{CUSTOMER}/messages?phone_number_id={PNID}")
    assert thread[-1]["text"] == "Halo Sari, diskon 20% untuk Lebaran!"

    for tpl_status, code in (("PAUSED", 132015), ("DISABLED", 132016)):
        sim.post("/_sim/templates", {"waba_id": WABA, "name": "promo_lebaran", "language": "id", "status": tpl_status})
        status, body = sim.send(template())
        assert status == 400
        assert_graph_error(body, code)


def test_statuses_sent_delivered_read_free_service_pricing_and_callback_data(sim: Harness):
    sim.customer_says(CUSTOMER)
    status, body = sim.send(text_to(CUSTOMER, biz_opaque_callback_data="campaign:42"))
    assert status == 200
    wamid = body["messages"][0]["id"]
    sim.receiver.wait_for(lambda _: len(statuses_for(sim, wamid)) >= 3)
    statuses = statuses_for(sim, wamid)
    assert [s["status"] for s in statuses] == ["sent", "delivered", "read"]
    free = {"billable": False, "pricing_model": "PMP", "type": "free_customer_service", "category": "service"}
    for s in statuses:
        assert s["recipient_id"] == CUSTOMER
        assert isinstance(s["timestamp"], str) and s["timestamp"].isdigit()
        assert s["biz_opaque_callback_data"] == "campaign:42"
        assert "conversation" not in s
        assert s.get("pricing") == (free if s["status"] != "read" else None)
    _, thread = sim.get(f"/_sim/customers/{CUSTOMER}/messages?phone_number_id={PNID}")
    assert thread[-1]["id"] == wamid and thread[-1]["direction"] == "in" and thread[-1]["status"] == "read"


def test_mark_as_read_shows_on_customer_phone(sim: Harness):
    first = sim.customer_says(CUSTOMER, "satu")
    second = sim.customer_says(CUSTOMER, "dua")
    _, thread = sim.get(f"/_sim/customers/{CUSTOMER}/messages?phone_number_id={PNID}")
    assert [(m["direction"], m["status"]) for m in thread] == [("out", "delivered"), ("out", "delivered")]
    status, body = sim.send({"status": "read", "message_id": second})
    assert status == 200 and body == {"success": True}
    _, thread = sim.get(f"/_sim/customers/{CUSTOMER}/messages?phone_number_id={PNID}")
    assert {m["id"]: m["status"] for m in thread} == {first: "read", second: "read"}
    status, body = sim.send({"status": "read", "message_id": "wamid.nope"})
    assert status == 400
    assert_graph_error(body, 100)


def test_duplicates_knob(sim: Harness):
    sim.post("/_sim/faults", {"duplicate_rate": 1.0, "duplicate_count": 2})
    wamid = sim.customer_says(CUSTOMER, "dobel")
    items = sim.receiver.wait_for(lambda items: len(items) >= 3)
    assert len({i.body for i in items}) == 1
    assert all(i.json["entry"][0]["changes"][0]["value"]["messages"][0]["id"] == wamid for i in items)
    _, stats = sim.get("/_sim/stats")
    assert stats["webhooks_duplicated"] == 2


def test_shuffled_statuses_and_batching(sim: Harness):
    sim.customer_says(CUSTOMER)
    sim.receiver.wait_for(lambda items: len(items) >= 1)
    sim.receiver.clear()
    status, faults = sim.post(
        "/_sim/faults",
        {"shuffle_statuses": True, "status_delays_ms": {"sent": 1, "delivered": 40, "read": 80}},
    )
    assert status == 200 and faults["shuffle_statuses"] is True
    orders = set()
    for _ in range(12):
        wamid = sim.send(text_to(CUSTOMER))[1]["messages"][0]["id"]
        sim.receiver.wait_for(lambda _, w=wamid: len(statuses_for(sim, w)) >= 3)
        orders.add(tuple(s["status"] for s in statuses_for(sim, wamid)))
    assert len(orders) > 1
    _, thread = sim.get(f"/_sim/customers/{CUSTOMER}/messages?phone_number_id={PNID}")
    assert all(m["status"] == "read" for m in thread if m["direction"] == "in")  # statuses only move forward

    sim.post("/_sim/faults", {"shuffle_statuses": False, "webhook_batch_size": 10})
    sim.receiver.clear()
    sim.post("/_sim/faults", {"status_delays_ms": {"sent": 30, "delivered": 30, "read": 30}})
    for _ in range(3):
        sim.send(text_to(CUSTOMER))
    sim.receiver.wait_for(lambda _: len(sim.receiver.statuses()) >= 9)
    assert any(len(i.json["entry"][0]["changes"]) > 1 for i in sim.receiver.snapshot())


def test_webhook_retries_until_200(sim: Harness):
    sim.receiver.fail_first = 2
    wamid = sim.customer_says(CUSTOMER)
    items = sim.receiver.wait_for(lambda items: len(items) >= 1)
    assert items[0].json["entry"][0]["changes"][0]["value"]["messages"][0]["id"] == wamid
    _, stats = sim.get("/_sim/stats")
    assert stats["webhook_retries"] >= 2 and stats["webhooks_sent"] >= 1


def test_graph_5xx_and_latency_knobs(sim: Harness):
    sim.customer_says(CUSTOMER)
    sim.post("/_sim/faults", {"graph_5xx_rate": 1.0})
    status, body = sim.send(text_to(CUSTOMER))
    assert status in (500, 503)
    assert_graph_error(body, 1 if status == 500 else 2)
    sim.post("/_sim/faults", {"graph_5xx_rate": 0.0, "graph_latency_ms": 120})
    started = time.monotonic()
    assert sim.send(text_to(CUSTOMER))[0] == 200
    assert time.monotonic() - started >= 0.12
    _, stats = sim.get("/_sim/stats")
    assert stats["injected_5xx"] == 1
    status, body = sim.post("/_sim/faults", {"no_such_knob": 1})
    assert status == 400


def test_phone_number_templates_listing_and_media(sim: Harness):
    status, body = sim.get(f"/v26.0/{PNID}", token=TOKEN)
    assert status == 200
    assert body == {
        "id": PNID,
        "display_phone_number": DISPLAY,
        "verified_name": "Butik Sari",
        "quality_rating": "GREEN",
        "throughput": {"level": "STANDARD"},
        "code_verification_status": "VERIFIED",
        "platform_type": "CLOUD_API",
    }
    for i in range(5):
        sim.post(
            "/_sim/templates",
            {"waba_id": WABA, "name": f"t{i}", "language": "id", "category": "UTILITY", "body_text": "Hai {{1}}"},
        )
    names, path = [], f"/v25.0/{WABA}/message_templates?limit=2"
    while path:
        status, page = sim.get(path, token=TOKEN)
        assert status == 200
        names += [t["name"] for t in page["data"]]
        for t in page["data"]:
            assert set(t) == {"id", "name", "language", "status", "category", "components"}
            assert t["components"] == [{"type": "BODY", "text": "Hai {{1}}"}]
        nxt = page["paging"].get("next")
        path = nxt[len(sim.base) :] if nxt else None
    assert names == [f"t{i}" for i in range(5)]

    # upload, look up, download
    boundary = uuid.uuid4().hex
    payload = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="messaging_product"\r\n\r\nwhatsapp\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="type"\r\n\r\nimage/png\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\n'
            f"Content-Type: image/png\r\n\r\n"
        ).encode()
        + b"\x89PNGdata"
        + f"\r\n--{boundary}--\r\n".encode()
    )
    req = urllib.request.Request(f"{sim.base}/v25.0/{PNID}/media", data=payload, method="POST")
    req.add_header("Content-Type", f"multipart/form-data; boundary={boundary}")
    req.add_header("Authorization", f"Bearer {TOKEN}")
    with urllib.request.urlopen(req) as resp:
        media_id = json.loads(resp.read())["id"]
    status, info = sim.get(f"/v25.0/{media_id}", token=TOKEN)
    assert status == 200
    assert info["messaging_product"] == "whatsapp" and info["id"] == media_id
    assert info["mime_type"] == "image/png" and info["file_size"] == 8
    assert info["sha256"] == hashlib.sha256(b"\x89PNGdata").hexdigest()
    assert info["url"] == f"{sim.base}/media-download/{media_id}"
    status, data = sim.get(f"/media-download/{media_id}", token=TOKEN)
    assert status == 200 and data == b"\x89PNGdata"
    status, _ = sim.get(f"/media-download/{media_id}")
    assert status == 401

    # a customer image references generated media that can be downloaded
    sim.post(f"/_sim/customers/{CUSTOMER}/messages", {"phone_number_id": PNID, "type": "image", "caption": "ini"})
    [item] = sim.receiver.wait_for(lambda items: len(items) >= 1)
    image = item.json["entry"][0]["changes"][0]["value"]["messages"][0]["image"]
    status, info = sim.get(f"/v25.0/{image['id']}", token=TOKEN)
    status, data = sim.get(info["url"][len(sim.base) :], token=TOKEN)
    assert data.startswith(b"\x89PNG") and hashlib.sha256(data).hexdigest() == image["sha256"]


def test_control_plane_thread_numbers_and_reset(sim: Harness):
    status, numbers = sim.get("/_sim/numbers")
    assert status == 200
    assert numbers == [
        {
            "phone_number_id": PNID,
            "waba_id": WABA,
            "display_phone_number": DISPLAY,
            "verified_name": "Butik Sari",
            "callback_url": sim.callback_url,
            "throughput_mps": 80.0,
        }
    ]
    incoming = sim.customer_says(CUSTOMER, "halo")
    sent = sim.send(text_to(CUSTOMER, "Halo juga"))[1]["messages"][0]["id"]
    _, thread = sim.get(f"/_sim/customers/{CUSTOMER}/messages?phone_number_id={PNID}")
    assert [(m["id"], m["direction"], m["type"], m["text"]) for m in thread] == [
        (incoming, "out", "text", "halo"),
        (sent, "in", "text", "Halo juga"),
    ]
    status, page = sim.get("/")
    assert status == 200 and b'data-testid="phone-send"' in page
    assert sim.post("/_sim/reset")[0] == 200
    assert sim.get("/_sim/numbers")[1] == []
