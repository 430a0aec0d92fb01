"""Background work of the CRM; each task runs in the schema of the shop that queued it."""

from django.conf import settings
from django.utils import translation
from django_tenants.utils import schema_context

from config.celery import app
from tenants.models import Shop

from .services import imports, segments

SHOPS_PER_CHUNK = 50
SECONDS_BETWEEN_CHUNKS = 60


@app.task(ignore_result=True)
def refresh_rfm() -> int:
    """One shop's RFM scores (queued in that shop's schema by `refresh_rfm_all_shops`)."""
    scored, _at = segments.refresh_rfm()
    return scored


@app.task(ignore_result=True)
def refresh_rfm_all_shops() -> int:
    """The nightly dispatcher: queues one refresh per live shop, a chunk of shops per minute.

    Spreading the chunks keeps a night with thousands of shops from running every set-based
    UPDATE against the database at the same moment.
    """
    queued = 0
    live = Shop.objects.shops().exclude(status=Shop.Status.SUSPENDED).order_by("pk")
    for index, schema_name in enumerate(live.values_list("schema_name", flat=True).iterator(chunk_size=500)):
        with schema_context(schema_name):
            refresh_rfm.apply_async(countdown=(index // SHOPS_PER_CHUNK) * SECONDS_BETWEEN_CHUNKS)
        queued += 1
    return queued


@app.task(acks_late=True)
def run_contact_import(import_id: int, language: str | None = None) -> str | None:
    """The contact import job. Safe to run twice: a re-delivered job resumes after its last committed chunk."""
    with translation.override(language or settings.LANGUAGE_CODE):
        job = imports.run_import(import_id)
    return job.status if job else None
