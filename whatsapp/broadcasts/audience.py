"""Who a broadcast reaches: the union of its segments, groups, labels and hand-picked contacts, minus whoever
must not get it. Each is one SQL query; freezing the audience is one INSERT … SELECT."""

import calendar
import zoneinfo
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

import phonenumbers
from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Subquery
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce, Substr
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.ratecard import OTHER_MARKETS
from crm.models import Contact, Order, Segment
from crm.services.segments import builtin_rules, rules_q, shop_zone
from tenants.services.errors import ServiceError
from whatsapp.models import Message

from .models import Broadcast, Recipient

CART_LOOKBACK = timedelta(days=7)  # an older cart is stale: activating the trigger does not chase it


def market_sql(number: str) -> str:
    """The calling code at the start of a WhatsApp number, in SQL; calling codes are prefix-free, so at most
    one length matches (the same answer as billing.ratecard.market_of, without a parse per row)."""
    codes = sorted(str(code) for code in phonenumbers.COUNTRY_CODE_TO_REGION_CODE)
    branches = []
    for length in (1, 2, 3):
        listed = ",".join(f"'{code}'" for code in codes if len(code) == length)
        branches.append(f"WHEN left({number}, {length}) IN ({listed}) THEN left({number}, {length})")
    return f"CASE {' '.join(branches)} ELSE '{OTHER_MARKETS}' END"


@dataclass
class Audience:
    """An audience before it freezes: who is in, and how many each exclusion removed."""

    eligible: QuerySet  # Contact rows, annotated with `to` (the WhatsApp number) and `market`
    excluded: dict[str, int] = field(default_factory=dict)

    def by_market(self) -> dict[str, int]:
        rows = self.eligible.order_by().values("market").annotate(n=Count("pk")).values_list("market", "n")
        return dict(rows)


def selected(spec: dict) -> QuerySet:
    """Contacts in any of the chosen segments, built-in groups or labels, or picked by hand; nobody when
    nothing is chosen (a broadcast never goes to "everyone" by omission)."""
    spec = spec or {}
    zone = shop_zone()
    parts: list[Q] = []
    segment_ids = _ids(spec.get("segments"), "segments")
    segments = {segment.pk: segment for segment in Segment.objects.filter(pk__in=segment_ids)}
    missing = set(segment_ids) - set(segments)
    if missing:
        raise ServiceError(_("A chosen segment no longer exists."), field="audience")
    for segment in segments.values():
        parts.append(rules_q(segment.rules, zone=zone))
    for key in spec.get("groups") or []:
        parts.append(rules_q(builtin_rules(str(key)), zone=zone))
    if labels := _ids(spec.get("labels"), "labels"):
        parts.append(Q(pk__in=Contact.labels.through.objects.filter(label_id__in=labels).values("contact_id")))
    if contacts := _ids(spec.get("contacts"), "contacts"):
        parts.append(Q(pk__in=contacts))
    event = spec.get("trigger")
    if not parts and not event:
        return Contact.objects.none()
    # An empty Q is "every contact" (a segment without rules), but Q() | Q(x) would drop it: say it outright.
    chosen = Q(pk__isnull=False) if any(not part for part in parts) else Q()
    for part in parts:
        chosen |= part
    contacts = Contact.objects.filter(merged_into__isnull=True).filter(chosen)
    # A triggered occurrence: whoever the event concerns, within the chosen audience when one was chosen.
    return contacts.filter(triggered(event)) if event else contacts


def triggered(event: dict) -> Q:
    """Contacts an event concerns for one occurrence of a triggered broadcast, minus whoever an earlier
    occurrence of the same broadcast already reached for that event (once per birthday year, per order, per
    cart). `event` is frozen on the occurrence: kind, parent, the local date and zone, the moment it ran."""
    kind, zone = event["kind"], zoneinfo.ZoneInfo(event["zone"])
    today, now = date.fromisoformat(event["on"]), datetime.fromisoformat(event["at"])

    def reached_since(moment) -> Exists:
        return Exists(Recipient.objects.filter(contact=OuterRef("pk"), broadcast__parent_id=event["parent"],
                                               broadcast__started_at__gte=moment))  # fmt: skip

    if kind == Broadcast.Trigger.BIRTHDAY:
        born = Q(birthday__month=today.month, birthday__day=today.day)
        if (today.month, today.day) == (2, 28) and not calendar.isleap(today.year):
            born |= Q(birthday__month=2, birthday__day=29)  # a leap-day birthday is celebrated on the 28th
        return born & ~reached_since(datetime.combine(date(today.year, 1, 1), time(), zone))
    if kind == Broadcast.Trigger.DAYS_AFTER_ORDER:
        day = today - timedelta(days=int(event["days"]))
        start = datetime.combine(day, time(), zone)
        end = datetime.combine(day + timedelta(days=1), time(), zone)
        orders = Order.objects.filter(contact=OuterRef("pk")).exclude(status=Order.Status.CANCELLED)
        latest = Order.objects.filter(contact=OuterRef(OuterRef("pk"))).exclude(status=Order.Status.CANCELLED)
        latest = Subquery(latest.order_by("-created_at").values("created_at")[:1])
        return (Exists(orders.filter(created_at__gte=start, created_at__lt=end))
                & ~Exists(orders.filter(created_at__gte=end)) & ~reached_since(latest))  # fmt: skip
    if kind == Broadcast.Trigger.CART_LEFT:
        cutoff = now - timedelta(hours=int(event["hours"]))
        carts = Message.objects.filter(conversation__contact=OuterRef("pk"), direction=Message.Direction.INBOUND,
                                       type="order")  # fmt: skip
        latest = Message.objects.filter(conversation__contact=OuterRef(OuterRef("pk")),
                                        direction=Message.Direction.INBOUND, type="order")  # fmt: skip
        latest = Subquery(latest.order_by("-created_at").values("created_at")[:1])
        ordered_since = Exists(Order.objects.filter(contact=OuterRef("pk"), created_at__gte=latest))
        return (Exists(carts.filter(created_at__lte=cutoff, created_at__gte=cutoff - CART_LOOKBACK))
                & ~Exists(carts.filter(created_at__gt=cutoff)) & ~ordered_since & ~reached_since(latest))  # fmt: skip
    raise ServiceError(_("Choose what triggers the broadcast."), field="trigger")


def _ids(values, name: str) -> list[int]:
    try:
        return [int(value) for value in values or []]
    except (TypeError, ValueError):
        raise ServiceError(_("The audience has an invalid %(part)s list.") % {"part": name}, field="audience") from None


def resolve(broadcast: Broadcast) -> Audience:
    """The audience with every exclusion applied, and the size of each exclusion (in the order applied)."""
    contacts = selected(broadcast.audience).annotate(
        to=Coalesce(F("wa_id"), Substr(F("phone"), 2), output_field=Contact._meta.get_field("wa_id"))
    )
    excluded = {}

    def drop(reason: str, condition: Q, queryset: QuerySet) -> QuerySet:
        excluded[reason] = queryset.filter(condition).count()
        return queryset.exclude(condition)

    contacts = drop("no_whatsapp", Q(to__isnull=True), contacts)
    if broadcast.template.category.lower() == "marketing":
        contacts = drop("opted_out", Q(marketing_opt_out=True), contacts)
    contacts = drop("undeliverable", Q(undeliverable=True), contacts)
    if broadcast.frequency_cap_hours:
        since = timezone.now() - timedelta(hours=broadcast.frequency_cap_hours)
        recently = Recipient.objects.filter(contact=OuterRef("pk"), sent_at__gte=since)
        if broadcast.pk:
            recently = recently.exclude(broadcast_id=broadcast.pk)
        contacts = drop("frequency_cap", Exists(recently), contacts)
    if broadcast.exclude_segments:
        left_out = selected({"segments": broadcast.exclude_segments})
        contacts = drop("excluded_segments", Q(pk__in=left_out.values("pk")), contacts)
    table = Contact._meta.db_table
    eligible = contacts.annotate(
        # The SQL is built from constants (calling codes and our table name), never from input.
        market=RawSQL(market_sql(f'COALESCE("{table}".wa_id, substr("{table}".phone, 2))'), [])  # noqa: S611
    )
    return Audience(eligible=eligible, excluded=excluded)


def freeze(broadcast: Broadcast, holds: dict[str, object]) -> int:
    """Writes one recipient row per contact of the audience in a single statement; `holds` is the price held
    for one message per market. Returns the number of recipients."""
    audience = resolve(broadcast).eligible.order_by().values_list("pk", "to", "market")
    try:
        select_sql, params = audience.query.sql_with_params()
    except EmptyResultSet:  # nothing was chosen
        return 0
    markets = list(holds)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {Recipient._meta.db_table} (broadcast_id, contact_id, wa_id, market, hold, status, attempts, "
            "error_reason) SELECT %s, a.id, a.to_, a.market_, COALESCE(h.hold, 0), %s, 0, '' "
            f"FROM ({select_sql}) AS a(id, to_, market_) "
            "LEFT JOIN unnest(%s::text[], %s::numeric[]) AS h(market, hold) ON h.market = a.market_ "
            "ON CONFLICT DO NOTHING",
            [broadcast.pk, Recipient.Status.QUEUED, *params, markets, [holds[m] for m in markets]],
        )
        return cursor.rowcount


def preview_contacts(broadcast: Broadcast, limit: int = 5) -> list[Contact]:
    return list(resolve(broadcast).eligible.order_by("pk")[:limit])
