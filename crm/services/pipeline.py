"""The one writer of the sales pipeline (stages and deals), and its board and metrics queries.

Stages are ordered columns with dense positions 0..n-1; deals have dense positions 0..n-1 within
their stage, so the board's drag-and-drop can send the target index. Every stage change of a deal
is kept (`DealStageChange`, including the stage it was created in, with no `from_stage`) and shown
on the contact's timeline.

A deal's `contacted_at` is set once, the first time it reaches a stage that means "contacted": a
stage marked `counts_as_contacted`, an open stage placed after such a stage, or a won stage.
`closed_at` is set when it enters a won or lost stage and cleared when it is reopened.

Metrics over a period `from`..`to` (whole days in the shop's time zone, both included; the period
runs from `from` 00:00 to the midnight after `to`), optionally for one owner's deals:

- **prospects_contacted**: deals *contacted in the period*: their `contacted_at` falls in the
  period, or their contact was sent a WhatsApp message by staff (direction "out", not automated)
  in the period while the deal was open (at or after the deal's `created_at`, and before its
  `closed_at` if it is closed). Each deal counts once, whichever way it was contacted.
- **won** / **lost**: deals whose `closed_at` falls in the period and whose current stage is a
  won / lost stage.
- **closing_rate**: won in the period / prospects contacted in the period, a decimal with 4 places
  ("0.4000"), null when no prospect was contacted. A deal contacted in an earlier period and won in
  this one counts in the numerator only, so the rate can exceed 1 over short periods.
- **win_rate_by_owner**: the same two counts and their ratio per deal owner (owners with neither
  are left out; deals without an owner are grouped under owner_id null).
- **average_days_to_close**: over deals won in the period, the mean of `closed_at - created_at` in
  days, rounded to 1 decimal; null when none was won.
- **funnel**: over deals *created* in the period, one row per open stage in position order, then
  one per won stage. A deal *reached* an open stage when the furthest non-lost stage it has ever
  been in (its stage history and its current stage) is at or after that stage's position, or when
  it has ever been in a won stage (winning passes through the whole funnel). It reached a won
  stage when it has ever been in that stage. `conversion_from_previous` = reached / the previous
  row's reached (4 places), null for the first row or when the previous row is 0.
- **lost_reasons**: deals lost in the period grouped by `lost_reason`, most frequent first.
"""

import datetime as dt
import zoneinfo
from decimal import ROUND_HALF_UP, Decimal

from django.db import connection, transaction
from django.db.models import (
    Avg,
    Count,
    DurationField,
    Exists,
    F,
    Max,
    OuterRef,
    Q,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.models import Contact, Deal, DealStageChange, Stage, TimelineEvent
from tenants.services.errors import ServiceError
from whatsapp.models import Message
from whatsapp.serializers import user_names

BOARD_COLUMN_LIMIT = 50
MAX_STAGES = 20
RATE_PLACES = Decimal("0.0001")


# Stages


def stages_with_totals(owner_id: int | None = None):
    """Stages in order, each with `deal_count` and `total_value` of its deals (one query)."""
    deals = Q(deals__owner_id=owner_id) if owner_id is not None else Q()
    return Stage.objects.annotate(
        deal_count=Count("deals", filter=deals),
        total_value=Coalesce(Sum("deals__value", filter=deals), 0),
    ).order_by("position", "id")


@transaction.atomic
def create_stage(*, name: str, kind: str, counts_as_contacted: bool = False, position: int | None = None) -> Stage:
    stages = list(Stage.objects.select_for_update().order_by("position", "id"))
    if len(stages) >= MAX_STAGES:
        raise ServiceError(_("A pipeline has at most %(count)d stages.") % {"count": MAX_STAGES})
    stage = Stage(name=_clean_stage_name(name), kind=kind, counts_as_contacted=counts_as_contacted)
    target = len(stages) if position is None else min(max(position, 0), len(stages))
    stages.insert(target, stage)
    _renumber(stages)
    return stage


@transaction.atomic
def update_stage(stage: Stage, *, name=None, kind=None, counts_as_contacted=None, position=None) -> Stage:
    stages = list(Stage.objects.select_for_update().order_by("position", "id"))
    stage = next(s for s in stages if s.pk == stage.pk)
    if name is not None:
        stage.name = _clean_stage_name(name)
    if counts_as_contacted is not None:
        stage.counts_as_contacted = counts_as_contacted
    if kind is not None and kind != stage.kind:
        if stage.deals.exists():
            raise ServiceError(_("Move this stage's deals elsewhere before changing its kind."), field="kind")
        _keep_won_and_lost(stages, without=stage)
        stage.kind = kind
    stage.save(update_fields=["name", "kind", "counts_as_contacted"])
    if position is not None:
        stages.remove(stage)
        stages.insert(min(max(position, 0), len(stages)), stage)
        _renumber(stages)
    return stage


@transaction.atomic
def delete_stage(stage: Stage) -> None:
    stages = list(Stage.objects.select_for_update().order_by("position", "id"))
    stage = next(s for s in stages if s.pk == stage.pk)
    if count := stage.deals.count():
        raise ServiceError(
            _("“%(stage)s” still has %(count)d deals: move them to another stage first.")
            % {"stage": stage.name, "count": count},
            code="stage_has_deals",
        )
    _keep_won_and_lost(stages, without=stage)
    stage.delete()
    stages.remove(stage)
    _renumber(stages)


def _clean_stage_name(name: str) -> str:
    name = name.strip()
    if not name:
        raise ServiceError(_("Give the stage a name."), field="name")
    return name


def _keep_won_and_lost(stages: list[Stage], *, without: Stage) -> None:
    remaining = {s.kind for s in stages if s.pk != without.pk}
    if without.kind == Stage.Kind.WON and Stage.Kind.WON not in remaining:
        raise ServiceError(_("The pipeline needs at least one won stage."), code="last_won_stage")
    if without.kind == Stage.Kind.LOST and Stage.Kind.LOST not in remaining:
        raise ServiceError(_("The pipeline needs at least one lost stage."), code="last_lost_stage")


def _renumber(stages: list[Stage]) -> None:
    for position, stage in enumerate(stages):
        if stage.pk is None:
            stage.position = position
            stage.save()
        elif stage.position != position:
            stage.position = position
            Stage.objects.filter(pk=stage.pk).update(position=position)


# Deals


def first_open_stage() -> Stage | None:
    return Stage.objects.filter(kind=Stage.Kind.OPEN).order_by("position", "id").first()


@transaction.atomic
def create_deal(
    *,
    title: str,
    contact: Contact,
    stage: Stage,
    value: int = 0,
    currency: str = "IDR",
    expected_close: dt.date | None = None,
    owner_id: int | None = None,
    notes: str = "",
    actor_id: int | None = None,
) -> Deal:
    if stage.kind == Stage.Kind.LOST:
        raise ServiceError(_("Create the deal in an open stage, then move it with a reason."), field="stage_id")
    Stage.objects.select_for_update().filter(pk=stage.pk).first()  # serialises positions in the column
    now = timezone.now()
    deal = Deal.objects.create(
        title=title.strip(), contact=contact, stage=stage, value=value, currency=currency,
        expected_close=expected_close, owner_id=owner_id, notes=notes, created_at=now,
        position=_column_length(stage), contacted_at=now if _means_contacted(stage) else None,
        closed_at=now if stage.kind == Stage.Kind.WON else None,
    )  # fmt: skip
    DealStageChange.objects.create(deal=deal, from_stage=None, to_stage=stage, actor_id=actor_id, changed_at=now)
    TimelineEvent.objects.create(
        contact=contact, kind="deal_created", actor_id=actor_id, created_at=now,
        summary=_("Deal %(title)s created in %(stage)s") % {"title": deal.title, "stage": stage.name},
        data={"deal_id": deal.pk, "stage_id": stage.pk},
    )  # fmt: skip
    return deal


DEAL_FIELDS = ("title", "value", "expected_close", "owner_id", "notes")


def update_deal(deal: Deal, changes: dict) -> Deal:
    """Edits the deal's details; its stage and place change only through `move_deal`."""
    fields = [field for field in DEAL_FIELDS if field in changes]
    for field in fields:
        setattr(deal, field, changes[field])
    if "title" in fields:
        deal.title = deal.title.strip()
    if fields:
        deal.save(update_fields=fields)
    return deal


@transaction.atomic
def move_deal(
    deal: Deal, stage: Stage, *, position: int | None = None, lost_reason: str = "", actor_id: int | None = None
) -> Deal:
    """Puts the deal at index `position` of `stage` (the end when None), keeping both columns dense."""
    lost_reason = lost_reason.strip()
    if stage.kind == Stage.Kind.LOST and not lost_reason and stage.pk != deal.stage_id:
        raise ServiceError(_("Say why the deal was lost."), field="lost_reason")
    list(Stage.objects.select_for_update().filter(pk__in={deal.stage_id, stage.pk}).order_by("pk"))
    deal = Deal.objects.select_for_update(of=("self",)).select_related("stage", "contact").get(pk=deal.pk)
    source = deal.stage
    column = Deal.objects.filter(stage=stage).exclude(pk=deal.pk)
    target = _column_length(stage, exclude=deal) if position is None else min(max(position, 0), column.count())
    if source.pk == stage.pk:
        if target > deal.position:
            column.filter(position__gt=deal.position, position__lte=target).update(position=F("position") - 1)
        elif target < deal.position:
            column.filter(position__gte=target, position__lt=deal.position).update(position=F("position") + 1)
        deal.position = target
        update = ["position"]
        if stage.kind == Stage.Kind.LOST and lost_reason:
            deal.lost_reason = lost_reason
            update.append("lost_reason")
        deal.save(update_fields=update)
        return deal

    Deal.objects.filter(stage=source, position__gt=deal.position).update(position=F("position") - 1)
    column.filter(position__gte=target).update(position=F("position") + 1)
    now = timezone.now()
    deal.stage, deal.position = stage, target
    deal.lost_reason = lost_reason if stage.kind == Stage.Kind.LOST else ""
    if deal.contacted_at is None and _means_contacted(stage):
        deal.contacted_at = now
    if stage.kind == Stage.Kind.OPEN:
        deal.closed_at = None
    elif stage.kind != source.kind or deal.closed_at is None:
        deal.closed_at = now
    deal.save(update_fields=["stage", "position", "lost_reason", "contacted_at", "closed_at"])
    DealStageChange.objects.create(deal=deal, from_stage=source, to_stage=stage, actor_id=actor_id, changed_at=now)
    TimelineEvent.objects.create(
        contact=deal.contact, kind="deal_moved", actor_id=actor_id, created_at=now,
        summary=_("Deal %(title)s moved to %(stage)s") % {"title": deal.title, "stage": stage.name},
        data={"deal_id": deal.pk, "from_stage_id": source.pk, "to_stage_id": stage.pk, "lost_reason": deal.lost_reason},
    )  # fmt: skip
    return deal


def _column_length(stage: Stage, exclude: Deal | None = None) -> int:
    """The index just past the column's last deal."""
    deals = Deal.objects.filter(stage=stage)
    if exclude is not None:
        deals = deals.exclude(pk=exclude.pk)
    return deals.aggregate(end=Coalesce(Max("position") + 1, 0))["end"]


def _means_contacted(stage: Stage) -> bool:
    if stage.counts_as_contacted or stage.kind == Stage.Kind.WON:
        return True
    return (
        stage.kind == Stage.Kind.OPEN
        and Stage.objects.filter(counts_as_contacted=True, position__lt=stage.position).exists()
    )


def deal_history(deal: Deal):
    return (
        DealStageChange.objects.filter(deal=deal).select_related("from_stage", "to_stage").order_by("changed_at", "id")
    )


# Board


def board_columns(owner_id: int | None = None) -> tuple[list[Stage], list[Deal]]:
    """The stages with whole-column totals, and up to 50 deals per column: two queries at any size.

    The deals are one UNION of a LIMIT 50 per stage, so each column is read from the
    (stage, position) index instead of ranking every deal of the shop.
    """
    stages = list(stages_with_totals(owner_id))
    deals = Deal.objects.select_related("contact")
    if owner_id is not None:
        deals = deals.filter(owner_id=owner_id)
    heads = [
        deals.filter(stage_id=stage.pk).order_by("position", "-id").values_list("pk", flat=True)[:BOARD_COLUMN_LIMIT]
        for stage in stages
    ]
    if not heads:
        return stages, []
    shown = heads[0].union(*heads[1:], all=True) if len(heads) > 1 else heads[0]
    return stages, list(deals.filter(pk__in=shown).order_by("stage__position", "position", "-id"))


def deal_page(*, stage_id=None, owner_id=None, contact_id=None, offset: int = 0, limit: int = BOARD_COLUMN_LIMIT):
    """One page of deals in board order (a column's "show more", a contact's deals) and whether more follow."""
    deals = Deal.objects.select_related("contact")
    filters = {"stage_id": stage_id, "owner_id": owner_id, "contact_id": contact_id}
    deals = deals.filter(**{field: value for field, value in filters.items() if value is not None})
    page = list(deals.order_by("stage__position", "position", "-id")[offset : offset + limit + 1])
    return page[:limit], len(page) > limit


# Metrics


def period_bounds(start: dt.date, end: dt.date, time_zone: str) -> tuple[dt.datetime, dt.datetime]:
    """[start 00:00, the midnight after end) in the shop's time zone."""
    zone = zoneinfo.ZoneInfo(time_zone)
    return (
        dt.datetime.combine(start, dt.time.min, tzinfo=zone),
        dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=zone),
    )


def _rate(numerator: int, denominator: int) -> str | None:
    if not denominator:
        return None
    return str((Decimal(numerator) / Decimal(denominator)).quantize(RATE_PLACES, rounding=ROUND_HALF_UP))


def pipeline_metrics(start: dt.date, end: dt.date, *, time_zone: str, owner_id: int | None = None) -> dict:
    """The numbers defined in this module's docstring, each computed by SQL aggregates."""
    low, high = period_bounds(start, end, time_zone)
    deals = Deal.objects.all()
    if owner_id is not None:
        deals = deals.filter(owner_id=owner_id)

    staff_message_while_open = (
        Message.objects.filter(
            conversation__contact_id=OuterRef("contact_id"), direction=Message.Direction.OUTBOUND, automated=False
        )
        .filter(created_at__gte=low, created_at__lt=high)
        .filter(created_at__gte=OuterRef("created_at"), created_at__lt=Coalesce(OuterRef("closed_at"), Value(high)))
    )
    contacted = Q(contacted_at__gte=low, contacted_at__lt=high) | Q(Exists(staff_message_while_open))
    closed_in_period = Q(closed_at__gte=low, closed_at__lt=high)
    won = closed_in_period & Q(stage__kind=Stage.Kind.WON)
    lost = closed_in_period & Q(stage__kind=Stage.Kind.LOST)

    totals = deals.aggregate(
        contacted=Count("id", filter=contacted),
        won=Count("id", filter=won),
        lost=Count("id", filter=lost),
        time_to_close=Avg(F("closed_at") - F("created_at"), filter=won, output_field=DurationField()),
    )
    by_owner = list(
        deals.values("owner_id")
        .annotate(contacted=Count("id", filter=contacted), won=Count("id", filter=won))
        .filter(Q(contacted__gt=0) | Q(won__gt=0))
        .order_by("owner_id")
    )
    names = user_names(row["owner_id"] for row in by_owner)
    lost_reasons = (
        deals.filter(lost).values("lost_reason").annotate(count=Count("id")).order_by("-count", "lost_reason")
    )
    time_to_close = totals["time_to_close"]
    return {
        "from": start.isoformat(),
        "to": end.isoformat(),
        "prospects_contacted": totals["contacted"],
        "won": totals["won"],
        "lost": totals["lost"],
        "closing_rate": _rate(totals["won"], totals["contacted"]),
        "win_rate_by_owner": [
            {
                "owner_id": row["owner_id"],
                "owner_name": names.get(row["owner_id"]),
                "contacted": row["contacted"],
                "won": row["won"],
                "win_rate": _rate(row["won"], row["contacted"]),
            }
            for row in by_owner
        ],
        "average_days_to_close": None
        if time_to_close is None
        else str(Decimal(time_to_close.total_seconds() / 86400).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)),
        "funnel": _funnel(deals.filter(created_at__gte=low, created_at__lt=high)),
        "lost_reasons": [{"reason": row["lost_reason"], "count": row["count"]} for row in lost_reasons],
    }


def _funnel(deals) -> list[dict]:
    """How many of `deals` reached each open stage, then each won stage (see the module docstring).

    One pass: the deals' histories are summed up per deal (a hash aggregate over the history of
    these deals only), then joined to the deals and counted.
    """
    stages = list(Stage.objects.exclude(kind=Stage.Kind.LOST).order_by("position", "id"))
    open_stages = [s for s in stages if s.kind == Stage.Kind.OPEN]
    won_stages = [s for s in stages if s.kind == Stage.Kind.WON]
    selected, selected_params = deals.order_by().values("id", "stage_id").query.sql_with_params()
    history, stage = DealStageChange._meta.db_table, Stage._meta.db_table
    counts = [f"COUNT(*) FILTER (WHERE furthest >= {s.position:d} OR ever_won)" for s in open_stages]
    counts += [f"COUNT(*) FILTER (WHERE stage_id = {s.pk:d} OR {s.pk:d} = ANY(won_stages))" for s in won_stages]
    sql = f"""
        WITH d AS NOT MATERIALIZED ({selected}),
        h AS (
            SELECT h.deal_id, MAX(s.position) FILTER (WHERE s.kind <> %s) AS furthest,
                   ARRAY_AGG(h.to_stage_id) FILTER (WHERE s.kind = %s) AS won_stages
            FROM {history} h JOIN {stage} s ON s.id = h.to_stage_id
            WHERE h.deal_id IN (SELECT id FROM d)
            GROUP BY h.deal_id
        ),
        f AS (
            SELECT d.stage_id, h.won_stages,
                   GREATEST(h.furthest, CASE WHEN s.kind <> %s THEN s.position END) AS furthest,
                   s.kind = %s OR h.won_stages IS NOT NULL AS ever_won
            FROM d JOIN {stage} s ON s.id = d.stage_id LEFT JOIN h ON h.deal_id = d.id
        )
        SELECT {", ".join(counts) or "1"} FROM f
    """
    kinds = [Stage.Kind.LOST, Stage.Kind.WON, Stage.Kind.LOST, Stage.Kind.WON]
    with connection.cursor() as cursor:
        cursor.execute(sql, [*selected_params, *kinds])
        found = cursor.fetchone()
    keys = [f"open_{s.pk}" for s in open_stages] + [f"won_{s.pk}" for s in won_stages]
    reached = dict(zip(keys, found[: len(keys)], strict=True))
    rows, previous = [], None
    for stage in [*open_stages, *won_stages]:
        count = reached[f"{'open' if stage.kind == Stage.Kind.OPEN else 'won'}_{stage.pk}"]
        rows.append(
            {
                "stage_id": stage.pk,
                "name": stage.name,
                "reached": count,
                "conversion_from_previous": None if previous is None else _rate(count, previous),
            }
        )
        previous = count
    return rows
