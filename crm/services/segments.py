"""Segments: saved rules over contacts, evaluated as one SQL query; built-in groups; RFM scores.

Rule grammar (stored in `Segment.rules`)
----------------------------------------
A group is ``{"op": "and" | "or", "rules": [rule or group, ...]}``, nested to any depth up to
``MAX_DEPTH``; an empty group (or ``{}``) matches every contact. A rule is
``{"field": ..., "operator": ..., "value": ...}``:

=================================  =============================================  ===========================
field                              operators                                      value
=================================  =============================================  ===========================
label                              has, has_not                                   label id
city                               is, is_not (case-insensitive), contains        text
attribute:<key> text               is (case-insensitive), contains                text
attribute:<key> number             eq, gt, lt, between                            number / [low, high]
attribute:<key> date               before, after, between                         "YYYY-MM-DD" / [low, high]
attribute:<key> choice             is, in                                         choice / [choices]
attribute:<key> checkbox           is_true, is_false (unset counts as false)      (none)
consent                            is                                             "opted_in" / "opted_out"
total_spent                        gt, lt, between                                integer minor units / [lo, hi]
order_count                        eq, gt, lt, between                            integer / [low, high]
last_order_at, first_order_at,     within_days, not_within_days (has a date,     days (integer)
last_inbound_at                    older than that), before, after, never        "YYYY-MM-DD" (shop's zone)
product_bought                     is                                             product id
rfm_segment                        is, in                                         group key / [group keys]
activity                           is                                             "active" / "passive" / "loyal"
broadcast                          not_delivered, delivered_not_read,             broadcast id
                                   read_no_reply, replied_no_order
=================================  =============================================  ===========================

`between` includes both ends. A number/date attribute whose stored value is not a number/date
never matches. Merged contacts are never part of a segment.

Activity (ShopSettings): *active* = last order within `active_window_days`; *passive* = has
ordered, but not within it; *loyal* = `order_count` ≥ `loyal_min_orders`.

RFM
---
Contacts with at least one order (`order_count` > 0, which counts non-cancelled orders) get
three scores 1-5 by quintile, computed in SQL with ``NTILE(5)``: recency by the day of the last
order in the shop's zone (most recent = 5), frequency by `order_count`, monetary by
`total_spent` (highest = 5). Equal values always share a score: a value that NTILE spreads over
several tiles gets the lowest of them, so one order never makes one customer "frequent" and
leaves another who is identical "rare". Groups come from R and FM = round-half-up((F + M) / 2);
the first matching row wins, which makes the table total (every (R, FM) pair has one group):

============  ============  ==========  ===================================================
precedence    group         R           FM
============  ============  ==========  ===================================================
1             new           5           1
2             champions     4-5         4-5
3             loyal         3-5         3-5      (so R 3 FM 3-5, and R 4-5 FM 3)
4             potential     4-5         1-3      (so R 4 FM 1-2, and R 5 FM 2)
5             at_risk       1-2         3-5
6             hibernating   2-3         1-2
7             lost          1           1-2
============  ============  ==========  ===================================================

Contacts without orders (and merged contacts) have no scores (no `ContactRfm` row) and an empty group.
"""

import datetime as dt
import zoneinfo
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import (
    Case,
    CharField,
    Count,
    Exists,
    FloatField,
    OuterRef,
    Q,
    QuerySet,
    When,
)
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast, Collate, Left, Lower
from django.db.models.lookups import (
    Exact,
    GreaterThan,
    GreaterThanOrEqual,
    IContains,
    In,
    LessThan,
    LessThanOrEqual,
    Regex,
)
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.models import AttributeDefinition, Contact, ContactRfm, Order, OrderItem, Segment, ShopSettings
from tenants.services.errors import ServiceError

MAX_DEPTH = 10


@dataclass(frozen=True)
class RfmGroup:
    key: str
    name: object  # a lazy translation
    recency: tuple[int, int]
    frequency_monetary: tuple[int, int]


# In precedence order: the first group whose ranges hold wins (see the module docstring).
RFM_GROUPS = [
    RfmGroup("new", gettext_lazy("New customers"), (5, 5), (1, 1)),
    RfmGroup("champions", gettext_lazy("Champions"), (4, 5), (4, 5)),
    RfmGroup("loyal", gettext_lazy("Loyal"), (3, 5), (3, 5)),
    RfmGroup("potential", gettext_lazy("Potential loyalists"), (4, 5), (1, 3)),
    RfmGroup("at_risk", gettext_lazy("At risk"), (1, 2), (3, 5)),
    RfmGroup("hibernating", gettext_lazy("Hibernating"), (2, 3), (1, 2)),
    RfmGroup("lost", gettext_lazy("Lost"), (1, 1), (1, 2)),
]
RFM_KEYS = [group.key for group in RFM_GROUPS]
RFM_DISPLAY_ORDER = ["champions", "loyal", "potential", "new", "at_risk", "hibernating", "lost"]
ACTIVITY_KEYS = ["active", "passive", "loyal"]
RETARGET_STEPS = ["not_delivered", "delivered_not_read", "read_no_reply", "replied_no_order"]


def rfm_group(recency: int, frequency: int, monetary: int) -> str:
    """The group of one score triple, by the table above (the SQL refresh uses the same table)."""
    combined = (frequency + monetary + 1) // 2
    return next(
        g.key
        for g in RFM_GROUPS
        if g.recency[0] <= recency <= g.recency[1] and g.frequency_monetary[0] <= combined <= g.frequency_monetary[1]
    )


def shop_zone() -> zoneinfo.ZoneInfo:
    """The current shop's time zone (a FakeTenant inside schema_context has none: the default)."""
    return zoneinfo.ZoneInfo(getattr(connection.tenant, "time_zone", None) or settings.SHOP_DEFAULT_TIME_ZONE)


def shop_settings() -> ShopSettings:
    return ShopSettings.objects.first() or ShopSettings()


# --- Rules → Q


class _RuleError(Exception):
    pass


NUMBER_PATTERN = r"^-?[0-9]+(\.[0-9]+)?$"
DATE_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}"


class _Compiler:
    """Turns one rule tree into a Q; reads attribute definitions and settings at most once each."""

    def __init__(self, rules: dict, zone: zoneinfo.ZoneInfo):
        self.zone = zone
        self.now = timezone.now()
        keys = set(_attribute_keys(rules))
        self.attributes = {d.key: d for d in AttributeDefinition.objects.filter(key__in=keys)} if keys else {}
        self._settings = None

    @property
    def settings(self) -> ShopSettings:
        if self._settings is None:
            self._settings = shop_settings()
        return self._settings

    def group(self, node, path: str, depth: int) -> Q:
        if not isinstance(node, dict):
            raise ServiceError(_("Rule %(path)s must be an object.") % {"path": path or "1"}, field="rules")
        if "field" in node:
            return self.rule(node, path or "1")
        if not node:
            return Q()
        op, children = node.get("op"), node.get("rules")
        if op not in ("and", "or") or not isinstance(children, list):
            raise ServiceError(
                _("Group %(path)s needs “op” (and / or) and a list of “rules”.") % {"path": path or "1"},
                field="rules",
            )
        if depth >= MAX_DEPTH:
            raise ServiceError(
                _("Rules can be nested at most %(depth)s levels deep.") % {"depth": MAX_DEPTH}, field="rules"
            )
        combined = Q()
        for index, child in enumerate(children, start=1):
            part = self.group(child, f"{path}.{index}" if path else str(index), depth + 1)
            combined = (combined & part) if op == "and" else (combined | part)
        return combined

    def rule(self, rule: dict, path: str) -> Q:
        field, operator, value = rule.get("field"), rule.get("operator"), rule.get("value")
        name = f"{field} {operator}"
        try:
            if not isinstance(field, str):
                raise _RuleError(_("it has no field"))
            if field.startswith("attribute:"):
                return self.attribute(field.removeprefix("attribute:"), operator, value)
            builder = getattr(self, f"rule_{field}", None)
            if builder is None:
                raise _RuleError(_("unknown field “%(field)s”") % {"field": field})
            return builder(operator, value)
        except _RuleError as problem:
            raise ServiceError(
                _("Rule %(path)s (%(rule)s): %(problem)s.") % {"path": path, "rule": name, "problem": problem},
                field="rules",
            ) from None

    # fields

    def rule_label(self, operator, value) -> Q:
        tagged = Exists(Contact.labels.through.objects.filter(contact_id=OuterRef("pk"), label_id=_integer(value)))
        return _pick(operator, {"has": lambda: Q(tagged), "has_not": lambda: ~Q(tagged)})

    def rule_city(self, operator, value) -> Q:
        text = _text(value)
        return _pick(
            operator,
            {
                "is": lambda: Q(city__iexact=text),
                "is_not": lambda: ~Q(city__iexact=text),
                "contains": lambda: Q(city__icontains=text),
            },
        )

    def rule_consent(self, operator, value) -> Q:
        _pick(operator, {"is": lambda: None})
        states = {"opted_in": Q(marketing_opt_out=False), "opted_out": Q(marketing_opt_out=True)}
        if value not in states:
            raise _RuleError(_("the value must be opted_in or opted_out"))
        return states[value]

    def rule_total_spent(self, operator, value) -> Q:
        return _number_rule("total_spent", operator, value, ("gt", "lt", "between"), _integer)

    def rule_order_count(self, operator, value) -> Q:
        return _number_rule("order_count", operator, value, ("eq", "gt", "lt", "between"), _integer)

    def rule_last_order_at(self, operator, value) -> Q:
        return self.moment("last_order_at", operator, value)

    def rule_first_order_at(self, operator, value) -> Q:
        return self.moment("first_order_at", operator, value)

    def rule_last_inbound_at(self, operator, value) -> Q:
        return self.moment("last_inbound_at", operator, value)

    def rule_product_bought(self, operator, value) -> Q:
        bought = Exists(
            OrderItem.objects.filter(order__contact_id=OuterRef("pk"), product_id=_integer(value)).exclude(
                order__status=Order.Status.CANCELLED
            )
        )
        return _pick(operator, {"is": lambda: Q(bought)})

    def rule_rfm_segment(self, operator, value) -> Q:
        def one():
            if value not in RFM_KEYS:
                raise _RuleError(_("the value must be one of: %(keys)s") % {"keys": ", ".join(RFM_KEYS)})
            return Q(rfm__segment=value)

        def many():
            if not isinstance(value, list) or not value or any(v not in RFM_KEYS for v in value):
                raise _RuleError(_("the value must be a list of: %(keys)s") % {"keys": ", ".join(RFM_KEYS)})
            return Q(rfm__segment__in=value)

        return _pick(operator, {"is": one, "in": many})

    def rule_activity(self, operator, value) -> Q:
        _pick(operator, {"is": lambda: None})
        if value not in ACTIVITY_KEYS:
            raise _RuleError(_("the value must be one of: %(keys)s") % {"keys": ", ".join(ACTIVITY_KEYS)})
        return activity_q(value, self.settings, self.now)

    def rule_broadcast(self, operator, value) -> Q:
        """Who stopped at a step of a broadcast's funnel (retargeting); the broadcast id is the value."""
        from whatsapp.broadcasts.results import broadcast_step_contacts

        broadcast_id = _integer(value)
        return _pick(operator, {step: (lambda step=step: Q(pk__in=broadcast_step_contacts(broadcast_id, step)))
                                for step in RETARGET_STEPS})  # fmt: skip

    # helpers

    def moment(self, field: str, operator, value) -> Q:
        def within():
            return Q(**{f"{field}__gte": self.now - dt.timedelta(days=_days(value))})

        def not_within():
            return Q(**{f"{field}__lt": self.now - dt.timedelta(days=_days(value))})

        return _pick(
            operator,
            {
                "within_days": within,
                "not_within_days": not_within,
                "before": lambda: Q(**{f"{field}__lt": self.day_start(_date(value))}),
                "after": lambda: Q(**{f"{field}__gte": self.day_start(_date(value) + dt.timedelta(days=1))}),
                "never": lambda: Q(**{f"{field}__isnull": True}),
            },
        )

    def day_start(self, day: dt.date) -> dt.datetime:
        return dt.datetime.combine(day, dt.time.min, tzinfo=self.zone)

    def attribute(self, key: str, operator, value) -> Q:
        definition = self.attributes.get(key)
        if definition is None:
            raise _RuleError(_("there is no contact field “%(key)s”") % {"key": key})
        text = KeyTextTransform(key, "attributes")
        kind = AttributeDefinition.Type
        if definition.type == kind.TEXT:
            return _pick(
                operator,
                {
                    "is": lambda: Q(Exact(Lower(text), _text(value).lower())),
                    "contains": lambda: Q(IContains(text, _text(value))),
                },
            )
        if definition.type == kind.NUMBER:
            number = Case(When(Regex(text, NUMBER_PATTERN), then=Cast(text, FloatField())), default=None)
            return _expression_rule(number, operator, value, ("eq", "gt", "lt", "between"), _float)
        if definition.type == kind.DATE:
            day = Case(
                When(Regex(text, DATE_PATTERN), then=Collate(Left(text, 10), "C")),
                default=None,
                output_field=CharField(),
            )
            operators = {"before": "lt", "after": "gt", "between": "between"}
            if operator not in operators:
                raise _RuleError(_("unknown operator"))
            return _expression_rule(day, operators[operator], value, ("lt", "gt", "between"), _iso_date)
        if definition.type == kind.CHOICE:

            def many():
                if not isinstance(value, list) or not value:
                    raise _RuleError(_("the value must be a list of choices"))
                return Q(In(text, [_text(v) for v in value]))

            return _pick(operator, {"is": lambda: Q(Exact(text, _text(value))), "in": many})
        return _pick(
            operator,
            {
                "is_true": lambda: Q(attributes__contains={key: True}),
                "is_false": lambda: ~Q(attributes__contains={key: True}),
            },
        )


def _attribute_keys(node):
    if isinstance(node, dict):
        field = node.get("field")
        if isinstance(field, str) and field.startswith("attribute:"):
            yield field.removeprefix("attribute:")
        children = node.get("rules")
        for child in children if isinstance(children, list) else []:
            yield from _attribute_keys(child)


def _pick(operator, builders: dict) -> Q:
    if operator not in builders:
        raise _RuleError(_("unknown operator; use one of: %(ops)s") % {"ops": ", ".join(builders)})
    return builders[operator]()


def _integer(value) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).lstrip("-").isdigit():
        raise _RuleError(_("the value must be a whole number"))
    return int(value)


def _float(value) -> float:
    if isinstance(value, bool):
        raise _RuleError(_("the value must be a number"))
    try:
        return float(value)
    except (TypeError, ValueError):
        raise _RuleError(_("the value must be a number")) from None


def _days(value) -> int:
    days = _integer(value)
    if days < 0:
        raise _RuleError(_("the number of days cannot be negative"))
    return days


def _date(value) -> dt.date:
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise _RuleError(_("the value must be a date (YYYY-MM-DD)")) from None


def _iso_date(value) -> str:
    return _date(value).isoformat()


def _text(value) -> str:
    if not isinstance(value, str | int | float) or isinstance(value, bool) or str(value) == "":
        raise _RuleError(_("the value must be some text"))
    return str(value)


def _pair(value, convert) -> tuple:
    if not isinstance(value, list) or len(value) != 2:
        raise _RuleError(_("“between” needs two values: [low, high]"))
    low, high = convert(value[0]), convert(value[1])
    if low > high:
        raise _RuleError(_("the low value is above the high value"))
    return low, high


def _number_rule(field: str, operator, value, allowed, convert) -> Q:
    lookups = {"eq": "exact", "gt": "gt", "lt": "lt"}
    builders = {op: (lambda op=op: Q(**{f"{field}__{lookups[op]}": convert(value)})) for op in allowed if op in lookups}
    if "between" in allowed:
        builders["between"] = lambda: Q(**{f"{field}__range": _pair(value, convert)})
    return _pick(operator, builders)


def _expression_rule(expression, operator, value, allowed, convert) -> Q:
    lookups = {"eq": Exact, "gt": GreaterThan, "lt": LessThan}
    builders = {op: (lambda op=op: Q(lookups[op](expression, convert(value)))) for op in allowed if op in lookups}

    def between():
        low, high = _pair(value, convert)
        return Q(GreaterThanOrEqual(expression, low)) & Q(LessThanOrEqual(expression, high))

    builders["between"] = between
    return _pick(operator, builders)


def activity_q(key: str, shop: ShopSettings, now: dt.datetime) -> Q:
    """Active, passive or loyal contacts by the shop's settings (see the module docstring)."""
    since = now - dt.timedelta(days=shop.active_window_days)
    return {
        "active": Q(last_order_at__gte=since),
        "passive": Q(last_order_at__lt=since),
        "loyal": Q(order_count__gte=max(shop.loyal_min_orders, 1)),
    }[key]


def rules_q(rules, *, zone: zoneinfo.ZoneInfo | None = None) -> Q:
    """Validates `rules` and turns them into one Q over Contact; ServiceError(field="rules") when wrong."""
    return _Compiler(rules, zone or shop_zone()).group(rules, "", 0)


def segment_queryset(rules, *, zone: zoneinfo.ZoneInfo | None = None) -> QuerySet[Contact]:
    """The contacts matching `rules`: one SQL query, merged contacts left out."""
    return Contact.objects.filter(merged_into__isnull=True).filter(rules_q(rules, zone=zone))


# --- Saved segments


def _clean_name(name) -> str:
    name = str(name or "").strip()
    if not name:
        raise ServiceError(_("Give the segment a name."), field="name")
    if len(name) > Segment._meta.get_field("name").max_length:
        raise ServiceError(_("The name is too long."), field="name")
    return name


def _save(segment: Segment) -> Segment:
    try:
        with transaction.atomic():
            segment.save()
    except IntegrityError:
        raise ServiceError(_("A segment with this name already exists."), field="name") from None
    return segment


def create_segment(*, name, rules) -> Segment:
    rules_q(rules)
    return _save(Segment(name=_clean_name(name), rules=rules))


def update_segment(segment: Segment, *, name=None, rules=None) -> Segment:
    if name is not None:
        segment.name = _clean_name(name)
    if rules is not None:
        rules_q(rules)
        segment.rules = rules
    return _save(segment)


def delete_segment(segment: Segment) -> None:
    segment.delete()


# --- Built-in segments


def builtin_rules(key: str) -> dict:
    """`rfm:<group>`, `active`, `passive` or `loyal` as ordinary rules; ServiceError "not_found" otherwise."""
    if key.startswith("rfm:") and key.removeprefix("rfm:") in RFM_KEYS:
        return {"field": "rfm_segment", "operator": "is", "value": key.removeprefix("rfm:")}
    if key in ACTIVITY_KEYS:
        return {"field": "activity", "operator": "is", "value": key}
    raise ServiceError(_("There is no such built-in segment."), code="not_found")


def builtin_names() -> dict[str, str]:
    return {
        **{f"rfm:{g.key}": str(g.name) for g in RFM_GROUPS},
        "active": _("Active customers"),
        "passive": _("Passive customers"),
        "loyal": _("Loyal customers"),
    }


def builtin_counts() -> list[dict]:
    """Every built-in segment with its size: the RFM groups from the scores, activity in one pass over contacts."""
    shop, now = shop_settings(), timezone.now()
    rfm = dict(ContactRfm.objects.values("segment").annotate(n=Count("pk")).values_list("segment", "n"))
    activity = {key: activity_q(key, shop, now) for key in ACTIVITY_KEYS}
    counts = Contact.objects.filter(merged_into__isnull=True).aggregate(
        **{key: Count("pk", filter=condition) for key, condition in activity.items()}
    )
    counts.update({f"rfm:{key}": rfm.get(key, 0) for key in RFM_DISPLAY_ORDER})
    names = builtin_names()
    keys = [f"rfm:{key}" for key in RFM_DISPLAY_ORDER] + ACTIVITY_KEYS
    return [{"key": key, "name": names[key], "count": counts[key]} for key in keys]


# --- RFM


def _rfm_case_sql() -> str:
    branches = " ".join(
        f"WHEN r BETWEEN {g.recency[0]} AND {g.recency[1]} "
        f"AND (f + m + 1) / 2 BETWEEN {g.frequency_monetary[0]} AND {g.frequency_monetary[1]} THEN '{g.key}'"
        for g in RFM_GROUPS
    )
    return f"CASE {branches} END"


def refresh_rfm() -> tuple[int, dt.datetime]:
    """Scores every customer of the current shop in one set-based statement; returns (scored, at).

    Scores go to the narrow ContactRfm table (contact rows and their indexes are not rewritten);
    rows whose scores did not change are not written, and customers no longer scored lose their row.
    """
    table, scores_table = Contact._meta.db_table, ContactRfm._meta.db_table
    sql = f"""
        WITH tiles AS (
            SELECT id,
                   (last_order_at AT TIME ZONE %(zone)s)::date AS recency_day, order_count, total_spent,
                   NTILE(5) OVER (ORDER BY (last_order_at AT TIME ZONE %(zone)s)::date, id) AS r_tile,
                   NTILE(5) OVER (ORDER BY order_count, id) AS f_tile,
                   NTILE(5) OVER (ORDER BY total_spent, id) AS m_tile
            FROM {table}
            WHERE order_count > 0 AND last_order_at IS NOT NULL AND merged_into_id IS NULL
        ),
        scores AS (
            SELECT id,
                   MIN(r_tile) OVER (PARTITION BY recency_day) AS r,
                   MIN(f_tile) OVER (PARTITION BY order_count) AS f,
                   MIN(m_tile) OVER (PARTITION BY total_spent) AS m
            FROM tiles
        ),
        grouped AS MATERIALIZED (SELECT id, r, f, m, {_rfm_case_sql()} AS segment FROM scores),
        scored AS (
            INSERT INTO {scores_table} AS s (contact_id, recency, frequency, monetary, segment)
            SELECT id, r, f, m, segment FROM grouped g
            WHERE NOT EXISTS (SELECT 1 FROM {scores_table} k WHERE k.contact_id = g.id
                              AND (k.recency, k.frequency, k.monetary, k.segment) = (g.r, g.f, g.m, g.segment))
            ON CONFLICT (contact_id) DO UPDATE
            SET recency = EXCLUDED.recency, frequency = EXCLUDED.frequency, monetary = EXCLUDED.monetary,
                segment = EXCLUDED.segment
            WHERE (s.recency, s.frequency, s.monetary, s.segment)
                  IS DISTINCT FROM (EXCLUDED.recency, EXCLUDED.frequency, EXCLUDED.monetary, EXCLUDED.segment)
            RETURNING 1
        ),
        cleared AS (
            DELETE FROM {scores_table} s WHERE NOT EXISTS (SELECT 1 FROM grouped g WHERE g.id = s.contact_id)
            RETURNING 1
        )
        SELECT (SELECT COUNT(*) FROM grouped), (SELECT COUNT(*) FROM scored), (SELECT COUNT(*) FROM cleared)
    """
    at = timezone.now()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, {"zone": shop_zone().key})
        scored, changed, cleared = cursor.fetchone()
        if changed + cleared:
            cursor.execute(f"ANALYZE {scores_table}")  # group sizes moved: segment queries plan by them
        updated = ShopSettings.objects.filter(pk=shop_settings().pk).update(rfm_refreshed_at=at)
        if not updated:
            ShopSettings.objects.create(rfm_refreshed_at=at)
    return scored, at
