"""The one place that writes broadcasts: compose, start (freeze and reserve), pause, resume, cancel, finish."""

import logging
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from billing import access, metering, wallet
from tenants import audit
from tenants.models import Shop
from tenants.services.errors import ServiceError
from whatsapp.models import MessageTemplate

from . import audience, cost, recurring, rendering  # recurring uses services only at run time
from .models import Broadcast, Recipient

logger = logging.getLogger(__name__)

EDITABLE = (Broadcast.Status.DRAFT, Broadcast.Status.SCHEDULED)
FIELDS = ("name", "variables", "header_media_url", "audience", "exclude_segments", "frequency_cap_hours",
          "attribution_days", "repeat", "trigger", "trigger_days", "trigger_hours")  # fmt: skip
TEMPLATE_EDITABLE = (Broadcast.Status.DRAFT, Broadcast.Status.ACTIVE, Broadcast.Status.INACTIVE)


def _template(template_id) -> MessageTemplate:
    template = MessageTemplate.objects.filter(pk=template_id).first()
    if template is None:
        raise ServiceError(_("Choose a template."), field="template_id")
    if template.status.upper() != "APPROVED":
        raise ServiceError(_("Only templates WhatsApp approved can be broadcast."), field="template_id")
    return template


def _apply(broadcast: Broadcast, data: dict) -> Broadcast:
    if "template_id" in data:
        broadcast.template = _template(data["template_id"])
    for name in FIELDS:
        if name in data:
            setattr(broadcast, name, data[name])
    broadcast.name = str(broadcast.name or "").strip()[:120]
    if not broadcast.name:
        raise ServiceError(_("Give the broadcast a name."), field="name")
    if not broadcast.template_id:
        raise ServiceError(_("Choose a template."), field="template_id")
    broadcast.variables = rendering.clean_variables(broadcast.template, broadcast.variables,
                                                    broadcast.header_media_url)  # fmt: skip
    recurring.clean_schedule(broadcast)
    audience.selected(broadcast.audience)  # refuses unknown segments and malformed lists
    audience.selected({"segments": broadcast.exclude_segments})
    return broadcast


def create_broadcast(data: dict, *, created_by_id: int | None = None) -> Broadcast:
    broadcast = _apply(Broadcast(created_by_id=created_by_id), data)
    broadcast.currency = metering.current_terms().currency
    broadcast.save()
    return broadcast


def update_broadcast(broadcast: Broadcast, data: dict) -> Broadcast:
    """A repeating or triggered broadcast stays editable while active: its next occurrence takes the change."""
    if broadcast.status not in (TEMPLATE_EDITABLE if broadcast.is_template else EDITABLE):
        raise ServiceError(_("A broadcast that has started cannot be changed."), code="not_editable")
    was_template = broadcast.is_template
    _apply(broadcast, data)
    if broadcast.status != Broadcast.Status.DRAFT and broadcast.is_template != was_template:
        raise ServiceError(_("Only a draft can change between once, repeating and triggered."), field="repeat")
    broadcast.save()
    return broadcast


def delete_broadcast(broadcast: Broadcast) -> None:
    if broadcast.status not in EDITABLE:
        raise ServiceError(_("A broadcast that has started cannot be deleted; cancel it instead."),
                           code="not_editable")  # fmt: skip
    broadcast.delete()


def launch(broadcast: Broadcast, at: datetime | None = None, *, actor=None) -> Broadcast:
    """Sends now, or schedules for `at` (the cost is checked again when it starts); a repeating or triggered
    broadcast becomes active instead, from `at` or now. The decision is audited (`actor`: who took it)."""
    launched = _launch(broadcast, at)
    audit.record("broadcast.started", actor=actor, target=f"broadcast:{launched.pk}", details={
        "name": launched.name, "status": launched.status, "at": at.isoformat() if at else None,
        "recipients": launched.recipient_count, "estimated_cost": str(launched.estimated_cost),
        "currency": launched.currency,
    })  # fmt: skip
    return launched


def _launch(broadcast: Broadcast, at: datetime | None) -> Broadcast:
    if broadcast.is_template:
        return recurring.activate(broadcast, at)
    if broadcast.status not in EDITABLE:
        raise ServiceError(_("This broadcast has already started."), code="not_editable")
    if at is not None and at > timezone.now():
        estimate = cost.estimate(broadcast)
        if not estimate.allowed:
            raise wallet.SpendRefused(estimate.refusal, code="cost_refused")
        Broadcast.objects.filter(pk=broadcast.pk).update(status=Broadcast.Status.SCHEDULED, scheduled_at=at)
        schema = connection.schema_name
        transaction.on_commit(lambda: _wake_at(schema, at))
        broadcast.refresh_from_db()
        return broadcast
    return start(broadcast)


def _wake_at(schema: str, at: datetime) -> None:
    from .tasks import mark_scheduled

    mark_scheduled(schema, at)


def start(broadcast: Broadcast) -> Broadcast:
    """Freezes the audience into recipient rows and reserves their whole cost, in one transaction: a send the
    balance or the cap does not cover is refused before any message goes out, and nothing is left behind."""
    shop = connection.tenant
    if isinstance(shop, Shop) and (blocked := access.read_only_reason(shop)):
        raise wallet.SpendRefused(blocked, code="read_only")
    if Shop.objects.filter(schema_name=connection.schema_name, status=Shop.Status.DELETION_PENDING).exists():
        # Promotions for a shop about to close would spend its money on customers it is leaving.
        closing = _("This shop is scheduled for deletion: broadcasts no longer start.")
        raise ServiceError(closing, code="deletion_pending")
    terms = metering.current_terms()
    with transaction.atomic():
        locked = Broadcast.objects.select_for_update().select_related("template").get(pk=broadcast.pk)
        if locked.status not in EDITABLE or locked.is_template:
            raise ServiceError(_("This broadcast has already started."), code="not_editable")
        holds = cost.unit_prices(locked, audience.resolve(locked).by_market())
        began = timezone.now()
        count = audience.freeze(locked, holds)
        if not count:
            raise ServiceError(_("Nobody in this audience can receive the broadcast."), field="audience")
        total = Recipient.objects.filter(broadcast=locked).aggregate(total=Sum("hold"))["total"] or Decimal(0)
        refused = cost.refusal(total, *cost.money_left(terms), terms.currency)
        if refused:
            raise wallet.SpendRefused(refused, code="cost_refused")
        wallet.reserve(terms.shop_id, locked.hold_reference, total, prepaid=terms.prepaid)
        Broadcast.objects.filter(pk=locked.pk).update(
            status=Broadcast.Status.SENDING, started_at=began, recipient_count=count, estimated_cost=total,
            currency=terms.currency, status_reason="",
        )  # fmt: skip
        schema, broadcast_id = connection.schema_name, locked.pk
        transaction.on_commit(lambda: dispatch_senders(schema, broadcast_id))
    broadcast.refresh_from_db()
    return broadcast


def dispatch_senders(schema: str, broadcast_id: int, count: int | None = None) -> None:
    """Queues the send loop on the broadcast workers (several share the number's limit)."""
    from . import sender
    from .tasks import send_broadcast

    sender.mark_active(schema, broadcast_id)
    for _n in range(count or settings.BROADCAST_SENDERS):
        send_broadcast.apply_async((broadcast_id,), queue="broadcasts")


def pause(broadcast: Broadcast) -> Broadcast:
    if broadcast.is_template:
        return recurring.deactivate(broadcast)
    return _move(broadcast, (Broadcast.Status.SENDING,), Broadcast.Status.PAUSED,
                 _("Only a broadcast that is sending can be paused."))  # fmt: skip


def resume(broadcast: Broadcast) -> Broadcast:
    if broadcast.is_template:
        return recurring.activate(broadcast)
    moved = _move(broadcast, (Broadcast.Status.PAUSED, Broadcast.Status.STOPPED), Broadcast.Status.SENDING,
                  _("Only a paused or stopped broadcast can be resumed."))  # fmt: skip
    schema = connection.schema_name
    transaction.on_commit(lambda: dispatch_senders(schema, broadcast.pk))
    return moved


def cancel(broadcast: Broadcast, *, actor=None) -> Broadcast:
    """Stops for good: whoever has not been sent to is skipped and their share of the reservation freed."""
    cancelled = _cancel(broadcast)
    audit.record("broadcast.cancelled", actor=actor, target=f"broadcast:{cancelled.pk}",
                 details={"name": cancelled.name})  # fmt: skip
    return cancelled


def _cancel(broadcast: Broadcast) -> Broadcast:
    finished = _("A finished broadcast cannot be cancelled.")
    if broadcast.is_template:  # its occurrences already sent are untouched
        return _move(broadcast, TEMPLATE_EDITABLE, Broadcast.Status.CANCELLED, finished)
    if broadcast.status in EDITABLE:
        return _move(broadcast, EDITABLE, Broadcast.Status.CANCELLED, finished)
    with transaction.atomic():
        moved = _move(broadcast, (Broadcast.Status.SENDING, Broadcast.Status.PAUSED, Broadcast.Status.STOPPED),
                      Broadcast.Status.CANCELLED, finished)  # fmt: skip
        skip_unsent(broadcast)
        Broadcast.objects.filter(pk=broadcast.pk).update(finished_at=timezone.now())
    moved.refresh_from_db()
    return moved


def skip_unsent(broadcast: Broadcast) -> None:
    """Recipients still waiting in a cancelled broadcast: skipped, their share of the reservation freed."""
    with transaction.atomic():
        skipped = Recipient.objects.select_for_update().filter(broadcast=broadcast, status=Recipient.Status.QUEUED)
        freed = sum(skipped.values_list("hold", flat=True), Decimal(0))
        skipped.update(status=Recipient.Status.SKIPPED, lease_until=None)
        if freed:
            wallet.free_hold(metering.current_terms().shop_id, broadcast.hold_reference, freed)


def _move(broadcast: Broadcast, allowed: tuple, to: str, refusal: str) -> Broadcast:
    updated = Broadcast.objects.filter(pk=broadcast.pk, status__in=allowed).update(status=to, status_reason="")
    if not updated:
        raise ServiceError(refusal, code="wrong_status")
    broadcast.refresh_from_db()
    return broadcast


def stop(broadcast_id: int, reason: str) -> None:
    """WhatsApp refused the template itself (missing, paused, disabled, wrong parameters): nothing more can go."""
    Broadcast.objects.filter(pk=broadcast_id, status=Broadcast.Status.SENDING).update(
        status=Broadcast.Status.STOPPED, status_reason=reason[:300]
    )


def pause_for(broadcast_id: int, reason: str) -> None:
    Broadcast.objects.filter(pk=broadcast_id, status=Broadcast.Status.SENDING).update(
        status=Broadcast.Status.PAUSED, status_reason=reason[:300]
    )


def finish_if_done(broadcast_id: int) -> bool:
    """Completes a sending broadcast once no recipient is waiting to be sent or in doubt."""
    waiting = Recipient.objects.filter(
        broadcast_id=broadcast_id, status__in=(Recipient.Status.QUEUED, Recipient.Status.SENDING)
    ).exists()
    if waiting:
        return False
    return bool(
        Broadcast.objects.filter(pk=broadcast_id, status=Broadcast.Status.SENDING).update(
            status=Broadcast.Status.COMPLETED, finished_at=timezone.now()
        )
    )


def start_due() -> int:
    """Starts scheduled broadcasts whose time has come; one that the money no longer covers goes back to
    draft with the reason, so the shop sees why it did not go."""
    started = 0
    for broadcast in Broadcast.objects.filter(status=Broadcast.Status.SCHEDULED, scheduled_at__lte=timezone.now()):
        try:
            start(broadcast)
            started += 1
        except ServiceError as refusal:
            Broadcast.objects.filter(pk=broadcast.pk, status=Broadcast.Status.SCHEDULED).update(
                status=Broadcast.Status.DRAFT, status_reason=str(refusal.message)[:300]
            )
    return started
