"""No secret and no customer's phone number reaches the logs: a whole flow on real processes (connecting
WhatsApp with its access token and app secret, a customer writing, staff searching and replying, an API
token, a mistyped invitation link) and then every line the web server and the worker wrote is searched."""

import logging

import httpx
import pytest
from django_tenants.utils import schema_context

from config.redaction import RedactingFormatter
from tests.factories import PASSWORD
from tests.support.servers import ARTIFACTS, ROOT, eventually, free_port, process_env, running, sim_call, simulator
from whatsapp.models import Message

pytestmark = pytest.mark.django_db

ACCESS_TOKEN = "EAAGlogtestaccesstoken0123456789"
APP_SECRET = "logtestappsecret9876543210"
PHONE_NUMBER_ID = "106540000000999"
CUSTOMER = "6281298765432"


@pytest.fixture(scope="module")
def stack(committed):
    """Simulator, gunicorn and a worker whose logs are files of their own."""
    import sys

    from tests.conftest import ShopWorld

    world = ShopWorld("logs")
    with simulator(sent_ms="20", delivered_ms="40", read_ms="60") as sim:
        port = free_port()
        env = process_env(PLATFORM_DOMAIN=f"localhost:{port}", WHATSAPP_GRAPH_BASE_URL=sim, LOG_LEVEL="DEBUG",
                          GUNICORN_WORKERS="1", GUNICORN_THREADS="8")  # fmt: skip
        web = [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "infra" / "gunicorn.conf.py"),
               "-b", f"127.0.0.1:{port}"]  # fmt: skip
        worker = [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", "threads", "--concurrency",
                  "2", "-l", "debug", "-n", "logs@%h", "-Q", "interactive,default", "--without-heartbeat",
                  "--without-mingle", "--without-gossip"]  # fmt: skip
        with running("web-logs", web, env), running("worker-logs", worker, env):
            base = f"http://localhost:{port}"
            assert eventually(lambda: _up(base))
            yield world, sim, base


def _up(base: str) -> bool:
    try:
        return httpx.get(base + "/healthz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def staff(world, base: str) -> httpx.Client:
    client = httpx.Client(base_url=base, headers={"Host": world.host}, timeout=20)
    client.get("/api/auth/csrf/")
    response = client.post("/api/auth/login/", json={"email": world.owner.email, "password": PASSWORD},
                           headers={"X-CSRFToken": client.cookies["csrftoken"]})  # fmt: skip
    assert response.status_code == 200
    client.headers["X-CSRFToken"] = client.cookies["csrftoken"]
    return client


def test_no_secret_or_phone_number_is_written_to_any_log(stack):
    world, sim, base = stack
    owner = staff(world, base)
    connected = owner.put("/api/whatsapp/account/", json={
        "phone_number_id": PHONE_NUMBER_ID, "waba_id": "WABA-LOGS", "display_phone_number": "6281100000999",
        "access_token": ACCESS_TOKEN, "app_secret": APP_SECRET, "verify_token": "logs-verify",
    })  # fmt: skip
    assert connected.status_code == 200, connected.text
    sim_call(sim, "POST", "/_sim/numbers", {
        "phone_number_id": PHONE_NUMBER_ID, "waba_id": "WABA-LOGS", "display_phone_number": "6281100000999",
        "verified_name": "Butik logs", "access_token": ACCESS_TOKEN, "app_secret": APP_SECRET,
        "callback_url": f"{base}/webhooks/whatsapp/", "throughput_mps": 80,
    })  # fmt: skip
    said = {"phone_number_id": PHONE_NUMBER_ID, "type": "text", "text": "halo, ini nomor saya 081298765432"}
    sim_call(sim, "POST", f"/_sim/customers/{CUSTOMER}/messages", said)

    def arrived():
        with schema_context(world.shop.schema_name):
            return Message.objects.filter(conversation__contact__wa_id=CUSTOMER).first()

    message = eventually(arrived, timeout=60)
    assert message is not None
    # Staff find the customer by phone and reply; an integration reads contacts with its token.
    assert owner.get("/api/crm/contacts/", params={"q": "+" + CUSTOMER}).status_code == 200
    assert owner.get("/api/crm/contacts/", params={"q": "0812-9876-5432"}).status_code == 200
    reply = owner.post(f"/api/inbox/conversations/{message.conversation_id}/messages/", json={"text": "Siap kak"})
    assert reply.status_code == 201, reply.text
    token = owner.post("/api/tokens/", json={"name": "Logs", "scopes": ["contacts:read"]}).json()["token"]
    assert httpx.get(base + "/api/crm/contacts/", params={"q": CUSTOMER}, timeout=20,
                     headers={"Host": world.host, "Authorization": f"Bearer {token}"}).status_code == 200  # fmt: skip
    # A bad request on a secret link: Django logs the path of every 4xx.
    owner.post("/api/invitations/secret-invitation-token-123/accept/", json={"password": ""})
    eventually(lambda: sim_call(sim, "GET", f"/_sim/customers/{CUSTOMER}/messages?phone_number_id={PHONE_NUMBER_ID}"))
    for handler in logging.getLogger().handlers:
        handler.flush()

    logs = {name: (ARTIFACTS / f"{name}.log").read_text(errors="replace") for name in ("web-logs", "worker-logs")}
    assert "GET /api/crm/contacts/" in logs["web-logs"]  # the access log is there, only redacted
    assert "halo" in logs["worker-logs"] or "Task" in logs["worker-logs"]
    for name, text in logs.items():
        for secret in (ACCESS_TOKEN, APP_SECRET, token, token[4:], "secret-invitation-token-123", CUSTOMER,
                       "81298765432", "8129876543"):  # fmt: skip
            assert secret not in text, f"{secret!r} in {name}.log"


def test_the_redaction_also_cleans_tracebacks_and_extras_and_leaves_the_record_alone():
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "sending to %s failed", ("+6281298765432",), None)
    try:
        raise ValueError("bad number 6281298765432")
    except ValueError:
        import sys

        record.exc_info = sys.exc_info()
    record.request = "<WSGIRequest: GET '/api/crm/contacts/?q=6281298765432'>"  # as django.request attaches it
    line = RedactingFormatter(logging.Formatter("%(message)s %(request)s")).format(record)
    assert line.startswith("sending to [phone] failed <WSGIRequest: GET '/api/crm/contacts/?q=[redacted]'>")
    assert "ValueError: bad number [phone]" in line and "6281298765432" not in line
    assert record.getMessage() == "sending to +6281298765432 failed"  # Sentry's handler reads the record
