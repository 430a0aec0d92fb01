"""The contact import job; it runs in the schema of the shop that queued it."""

from django.conf import settings
from django.utils import translation

from config.celery import app
from crm.services import imports


@app.task(acks_late=True)
def run_contact_import(import_id: int, language: str | None = None) -> str | None:
    """Safe to run twice: a re-delivered job resumes after its last committed chunk."""
    with translation.override(language or settings.LANGUAGE_CODE):
        job = imports.run_import(import_id)
    return job.status if job else None
