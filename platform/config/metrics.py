"""Prometheus metrics for the operator: /metrics on the platform domain (METRICS_TOKEN or a console session),
the same with the token at a web pod's own address (whatsapp/channel/wsgi.py), a worker's on METRICS_PORT.

Counters and histograms are kept by prometheus_client in every process that does the work: gunicorn's
workers, Celery's prefork children. With PROMETHEUS_MULTIPROC_DIR set (make run, the tests, every
container), each process writes its values to memory-mapped files in that folder and a scrape adds them
all up, dead processes included, so a counter never goes backwards when a worker is recycled.

Gauges that describe the platform rather than one process (intake lag, backlog, Celery queue depths,
active broadcasts) are read from PostgreSQL and Redis at scrape time by `PlatformCollector`, only by the
web's /metrics, so they appear once however many processes there are.
"""

import hmac
import logging
import os
import time

from django.conf import settings
from django.db import connection
from django.http import HttpResponse

MULTIPROC_DIR = os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")
if MULTIPROC_DIR:
    os.makedirs(MULTIPROC_DIR, exist_ok=True)  # prometheus_client writes there from the first metric on

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest  # noqa: E402
from prometheus_client.core import GaugeMetricFamily  # noqa: E402
from prometheus_client.multiprocess import MultiProcessCollector  # noqa: E402

logger = logging.getLogger(__name__)

REQUEST_LATENCY = Histogram(
    "warung_http_request_duration_seconds",
    "Time to answer a request, by the view (URL name) that answered it.",
    ["view"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
WEBHOOKS_RECEIVED = Counter("warung_webhooks_received", "WhatsApp webhook POSTs received by the intake.")
WEBHOOKS = Counter(
    "warung_webhooks",
    "WhatsApp webhooks by outcome: accepted (stored for a shop), refused (bad signature), quarantined "
    "(a number no shop owns), malformed (not a webhook).",
    ["outcome"],
)
MESSAGES_SENT = Counter(
    "warung_messages_sent",
    "Messages handed to WhatsApp's Graph API, by result (sent, retry, failed; in_doubt: no answer in time) and "
    "channel (direct, broadcast).",
    ["result", "channel"],
)
LIMITER_WAITS = Counter("warung_limiter_waits", "Times a sender waited for its number's rate limiter.")
LIMITER_WAIT_SECONDS = Counter("warung_limiter_wait_seconds", "Seconds senders spent waiting for the rate limiter.")
LEDGER_ROWS = Counter("warung_ledger_rows", "Usage ledger rows written (one per message Meta prices).")

# The Celery queues whose depth the operator watches (see settings: CELERY_TASK_ROUTES and the intake).
CELERY_QUEUES = ("interactive", "default", "broadcasts")
# Kombu's Redis transport keeps a queue's prioritised messages in lists named queue + separator + step.
_PRIORITY_SUFFIXES = ("", *(f"\x06\x16{step}" for step in (3, 6, 9)))


def sent(result: str, channel: str, count: int = 1) -> None:
    if count:
        MESSAGES_SENT.labels(result=result, channel=channel).inc(count)


def waited(seconds: float) -> None:
    if seconds > 0:
        LIMITER_WAITS.inc()
        LIMITER_WAIT_SECONDS.inc(seconds)


def intake_backlog() -> tuple[int, float]:
    """Webhooks stored but not processed yet, and the age in seconds of the oldest (0 when none): one query
    over the partial index of pending rows."""
    from whatsapp.channel.models import WebhookIntake

    if connection.schema_name != "public":
        connection.set_schema_to_public()
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT count(*), extract(epoch FROM clock_timestamp() - min(received_at)) "
            f"FROM {WebhookIntake._meta.db_table} WHERE status = 'pending'"
        )
        pending, oldest_age = cursor.fetchone()
    return pending, float(oldest_age or 0)


def queue_depths() -> dict[str, int]:
    """Tasks waiting in each Celery queue (Redis list lengths, every priority)."""
    from config.redis import redis_client

    pipe = redis_client().pipeline(transaction=False)
    for queue in CELERY_QUEUES:
        for suffix in _PRIORITY_SUFFIXES:
            pipe.llen(queue + suffix)
    lengths = pipe.execute()
    per_queue = len(_PRIORITY_SUFFIXES)
    return {queue: sum(lengths[n * per_queue : (n + 1) * per_queue]) for n, queue in enumerate(CELERY_QUEUES)}


class PlatformCollector:
    """Gauges read at scrape time: cheap indexed queries and Redis lengths, never a table scan."""

    def collect(self):
        yield from self._intake()
        yield from self._queues()

    def _intake(self):
        try:
            pending, oldest_age = intake_backlog()
        except Exception:
            logger.warning("intake gauges unavailable")
            return
        yield GaugeMetricFamily(
            "warung_intake_lag_seconds",
            "Age of the oldest webhook stored but not processed yet (0 when none).",
            value=oldest_age,
        )
        yield GaugeMetricFamily("warung_intake_backlog", "Webhooks stored but not processed yet.", value=pending)

    def _queues(self):
        from config.redis import redis_client
        from whatsapp.broadcasts.sender import ACTIVE_KEY

        try:
            depths = queue_depths()
            active = redis_client().scard(ACTIVE_KEY)
        except Exception:
            logger.warning("queue gauges unavailable")
            return
        depth = GaugeMetricFamily("warung_queue_depth", "Tasks waiting in a Celery queue.", labels=["queue"])
        for queue, waiting in depths.items():
            depth.add_metric([queue], waiting)
        yield depth
        yield GaugeMetricFamily("warung_broadcasts_active", "Broadcasts being sent.", value=active)


def process_exposition() -> bytes:
    """The counters of every process sharing this folder (or of this process alone, without one)."""
    if not MULTIPROC_DIR:
        from prometheus_client import REGISTRY

        return generate_latest(REGISTRY)
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=MULTIPROC_DIR)
    return generate_latest(registry)


def exposition() -> bytes:
    """The web's /metrics: its processes' counters and the platform gauges."""
    platform = CollectorRegistry(auto_describe=False)
    platform.register(PlatformCollector())
    return process_exposition() + generate_latest(platform)


def token_matches(authorization: str) -> bool:
    token = settings.METRICS_TOKEN
    return bool(token) and hmac.compare_digest(authorization.encode(), f"Bearer {token}".encode())


def operator_may_scrape(request) -> bool:
    """A bearer token equal to METRICS_TOKEN, or a signed-in platform staff member (the console's operators)."""
    if token_matches(request.headers.get("Authorization", "")):
        return True
    user = getattr(request, "user", None)
    return bool(user and user.is_active and user.is_staff)


def metrics_view(request):
    """GET /metrics on the platform domain, for Prometheus and operators only."""
    if not operator_may_scrape(request):
        identified = "Authorization" in request.headers or request.user.is_authenticated
        response = HttpResponse("Operators only.\n", status=403 if identified else 401)
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return HttpResponse(exposition(), content_type=CONTENT_TYPE_LATEST)


def worker_metrics_app(environ, start_response):
    """A Celery worker's own counters (its pod has no web server), for Prometheus with METRICS_TOKEN only."""
    if not token_matches(environ.get("HTTP_AUTHORIZATION", "")):
        start_response("401 Unauthorized", [("Content-Type", "text/plain"), ("WWW-Authenticate", "Bearer")])
        return [b"Operators only.\n"]
    start_response("200 OK", [("Content-Type", CONTENT_TYPE_LATEST)])
    return [process_exposition()]


def serve_worker_metrics(port: int) -> None:
    """Serves `worker_metrics_app` on `port` from a thread of the worker's main process."""
    import threading
    from wsgiref.simple_server import WSGIRequestHandler, make_server

    class Quiet(WSGIRequestHandler):
        def log_message(self, *args):  # one line per scrape is noise
            pass

    server = make_server("0.0.0.0", port, worker_metrics_app, handler_class=Quiet)  # noqa: S104 - the pod's port
    threading.Thread(target=server.serve_forever, name="metrics", daemon=True).start()
    logger.info("worker metrics on port %s", port)


class RequestLatencyMiddleware:
    """Times each request and files it under its URL name (or its view's path), never the raw URL."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        view = match.view_name if match else "unmatched"  # a URL name, or the view's dotted path
        REQUEST_LATENCY.labels(view=view).observe(time.perf_counter() - started)
        return response
