"""Stripe's webhook endpoint on the platform domain."""

import logging

from django.http import HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from . import stripe_events

logger = logging.getLogger(__name__)


@csrf_exempt
@require_POST
def stripe_webhook(request):
    """Verified with the endpoint secret; a repeat is acknowledged and ignored; a failure makes Stripe retry."""
    try:
        event = stripe_events.verify(request.body, request.headers.get("Stripe-Signature"))
    except stripe_events.BadEvent as error:
        logger.warning("refused a Stripe webhook: %s", error)
        return JsonResponse({"detail": "Invalid Stripe signature or payload."}, status=400)
    applied = stripe_events.handle(event)
    return HttpResponse("ok" if applied else "already processed", status=200)
