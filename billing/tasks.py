"""Billing background work: auto-recharge, usage to Stripe, stale reservations."""

from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from config.redis import redis_client

from . import stripe_gateway, usage_reporting
from .models import Reservation
from .wallet import release

STALE_RESERVATION = timedelta(days=3)


@shared_task(acks_late=True)
def auto_recharge(shop_id: int) -> None:
    """One charge at a time per shop: a burst of spends below the threshold makes one payment."""
    lock = redis_client().lock(f"billing:auto-recharge:{shop_id}", timeout=120, blocking=False)
    if not lock.acquire():
        return
    try:
        stripe_gateway.charge_saved_card(shop_id)
    finally:
        lock.release()


@shared_task(acks_late=True)
def report_usage_to_stripe() -> int:
    return usage_reporting.report_all()


@shared_task(acks_late=True)
def release_stale_reservations() -> int:
    """Money held for sends Meta never priced (failed silently, or never delivered) goes back."""
    cutoff = timezone.now() - STALE_RESERVATION
    released = 0
    stale = Reservation.objects.filter(state=Reservation.State.HELD, created_at__lt=cutoff)
    for shop_id, reference in stale.values_list("account__shop_id", "reference"):
        release(shop_id, reference=reference)
        released += 1
    return released
