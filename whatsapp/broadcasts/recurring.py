"""Repeating and triggered broadcasts. Such a broadcast is a template that never sends itself: when it is due
(its next run, or its next check for a trigger) the sweeper makes an occurrence, a copy with `parent` set and
the audience of that moment, and starts it through services.start, so exclusions, the frequency cap, the cost
check and the exactly-once sender apply unchanged. An occurrence the money does not cover is not made; the
reason stays on the template, where the shop sees it."""

import calendar
import zoneinfo
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tenants.models import Shop
from tenants.services.errors import ServiceError

from . import audience, services
from .models import Broadcast

CART_CHECK = timedelta(minutes=5)  # how often a cart-left trigger looks for carts past their delay
DAY = timedelta(days=1)
TEMPLATE_STATUSES = (Broadcast.Status.DRAFT, Broadcast.Status.ACTIVE, Broadcast.Status.INACTIVE)


def shop_zone() -> zoneinfo.ZoneInfo:
    """The shop's own zone, also inside a bare schema_context (the sweeper's)."""
    name = getattr(connection.tenant, "time_zone", None)
    if not name:
        name = Shop.objects.filter(schema_name=connection.schema_name).values_list("time_zone", flat=True).first()
    return zoneinfo.ZoneInfo(name or settings.SHOP_DEFAULT_TIME_ZONE)


def clean_schedule(broadcast: Broadcast) -> None:
    """Refuses a schedule that cannot run: both a repeat and a trigger, or a trigger without its number."""
    if broadcast.repeat not in Broadcast.Repeat.values:
        raise ServiceError(_("Choose daily, weekly or monthly."), field="repeat")
    if broadcast.trigger not in Broadcast.Trigger.values:
        raise ServiceError(_("Choose what triggers the broadcast."), field="trigger")
    if broadcast.repeat and broadcast.trigger:
        raise ServiceError(_("A broadcast either repeats or is triggered, not both."), field="trigger")
    if broadcast.trigger == Broadcast.Trigger.DAYS_AFTER_ORDER and not broadcast.trigger_days:
        raise ServiceError(_("Say how many days after an order."), field="trigger_days")
    if broadcast.trigger == Broadcast.Trigger.CART_LEFT and not broadcast.trigger_hours:
        raise ServiceError(_("Say how many hours a cart waits."), field="trigger_hours")


def activate(broadcast: Broadcast, first_run: datetime | None = None) -> Broadcast:
    """Starts making occurrences: a repeat from its first run (now when not given), a trigger at once."""
    if broadcast.status not in TEMPLATE_STATUSES or broadcast.status == Broadcast.Status.ACTIVE:
        raise ServiceError(_("This broadcast is already active."), code="wrong_status")
    run_at = first_run or broadcast.next_run_at or timezone.now()
    if broadcast.next_run_at and broadcast.status == Broadcast.Status.INACTIVE and not first_run:
        run_at = _catch_up(broadcast, broadcast.next_run_at, timezone.now())  # no backlog of missed runs
    anchor = broadcast.scheduled_at if broadcast.scheduled_at and not first_run else run_at  # monthly's day
    Broadcast.objects.filter(pk=broadcast.pk).update(status=Broadcast.Status.ACTIVE, next_run_at=run_at,
                                                     scheduled_at=anchor, status_reason="")  # fmt: skip
    schema = connection.schema_name
    transaction.on_commit(lambda: _wake_at(schema, run_at))
    broadcast.refresh_from_db()
    return broadcast


def _wake_at(schema: str, at: datetime) -> None:
    from .tasks import mark_scheduled

    mark_scheduled(schema, at)


def deactivate(broadcast: Broadcast) -> Broadcast:
    updated = Broadcast.objects.filter(pk=broadcast.pk, status=Broadcast.Status.ACTIVE).update(
        status=Broadcast.Status.INACTIVE
    )
    if not updated:
        raise ServiceError(_("Only an active broadcast can be paused."), code="wrong_status")
    broadcast.refresh_from_db()
    return broadcast


def _step(broadcast: Broadcast, after: datetime, zone) -> datetime:
    """The run after `after`, at the same wall-clock time in the shop's zone (a monthly run on the 31st
    falls on the last day of shorter months, and returns to the 31st after them)."""
    local = after.astimezone(zone)
    if broadcast.repeat == Broadcast.Repeat.WEEKLY:
        return (local.replace(tzinfo=None) + timedelta(days=7)).replace(tzinfo=zone)
    if broadcast.repeat == Broadcast.Repeat.MONTHLY:
        anchor_day = (broadcast.scheduled_at or after).astimezone(zone).day
        year, month = (local.year + 1, 1) if local.month == 12 else (local.year, local.month + 1)
        return local.replace(year=year, month=month, day=min(anchor_day, calendar.monthrange(year, month)[1]))
    if broadcast.trigger == Broadcast.Trigger.CART_LEFT:
        return after + CART_CHECK
    return (local.replace(tzinfo=None) + DAY).replace(tzinfo=zone)  # daily, birthday, days after an order


def _catch_up(broadcast: Broadcast, due_at: datetime, now: datetime) -> datetime:
    """The first run after `now`: runs missed while the sweeper was down are skipped, not sent in a burst."""
    zone = shop_zone()
    run = _step(broadcast, due_at, zone)
    while run <= now:
        run = _step(broadcast, run, zone)
    return run


def run_due(now: datetime | None = None) -> int:
    """Makes and starts the occurrence of every active repeating or triggered broadcast that is due; returns
    how many started. Each template is locked while its occurrence is made and its next run moved, so two
    sweepers never make the same occurrence twice."""
    now = now or timezone.now()
    started = 0
    due = Broadcast.objects.filter(status=Broadcast.Status.ACTIVE, next_run_at__lte=now).values_list("pk", flat=True)
    for broadcast_id in list(due):
        with transaction.atomic():
            locked = Broadcast.objects.select_for_update(skip_locked=True).select_related("template")
            parent = locked.filter(pk=broadcast_id, status=Broadcast.Status.ACTIVE, next_run_at__lte=now).first()
            if parent is None:
                continue
            reason = ""
            try:
                with transaction.atomic():
                    occurrence = _occurrence(parent, now)
                    if parent.trigger and not audience.resolve(occurrence).eligible.exists():
                        raise _NobodyDue  # a trigger's ordinary day: no occurrence, nothing to tell
                    services.start(occurrence)
                started += 1
            except _NobodyDue:
                pass
            except ServiceError as refusal:  # the balance, the cap, a read-only shop, an empty audience
                reason = str(refusal.message)[:300]
            Broadcast.objects.filter(pk=parent.pk).update(next_run_at=_catch_up(parent, parent.next_run_at, now),
                                                          status_reason=reason)  # fmt: skip
    return started


class _NobodyDue(Exception):
    pass


def _occurrence(parent: Broadcast, now: datetime) -> Broadcast:
    """A copy of the template for this run; a trigger's audience is frozen as the event it looks for."""
    zone = shop_zone()
    local = now.astimezone(zone)
    spec = dict(parent.audience or {})
    if parent.trigger:
        spec["trigger"] = {"kind": parent.trigger, "parent": parent.pk, "zone": str(zone),
                           "on": local.date().isoformat(), "at": now.isoformat(),
                           "days": parent.trigger_days, "hours": parent.trigger_hours}  # fmt: skip
    return Broadcast.objects.create(
        parent=parent, name=f"{parent.name} · {local:%Y-%m-%d %H:%M}"[:120], template=parent.template,
        variables=parent.variables, header_media_url=parent.header_media_url, audience=spec,
        exclude_segments=parent.exclude_segments, frequency_cap_hours=parent.frequency_cap_hours,
        attribution_days=parent.attribution_days, currency=parent.currency, created_by_id=parent.created_by_id,
    )  # fmt: skip


def next_wake() -> datetime | None:
    """When the sweeper should next look at this shop for templates."""
    upcoming = Broadcast.objects.filter(status=Broadcast.Status.ACTIVE, next_run_at__isnull=False)
    return upcoming.order_by("next_run_at").values_list("next_run_at", flat=True).first()
