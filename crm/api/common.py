"""Cursor pagination over (sort key, id) pairs, shared by the CRM lists."""

import base64
import json

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.utils import inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import ValidationError

PAGE_SIZE = 50


def encode_cursor(values: list) -> str:
    return base64.urlsafe_b64encode(json.dumps(values, default=str).encode()).decode()


def decode_cursor(cursor: str | None) -> list | None:
    if not cursor:
        return None
    try:
        return json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except ValueError:
        return None


def page_by_id(queryset: QuerySet, cursor: str | None, size: int = PAGE_SIZE) -> tuple[list, str | None]:
    """Newest id first; stable under inserts, one indexed range scan per page."""
    after = decode_cursor(cursor)
    if after:
        queryset = queryset.filter(pk__lt=after[0])
    rows = list(queryset.order_by("-pk")[: size + 1])
    next_cursor = encode_cursor([rows[size - 1].pk]) if len(rows) > size else None
    return rows[:size], next_cursor


def page_by_time(queryset: QuerySet, field: str, cursor: str | None, size: int = PAGE_SIZE) -> tuple[list, str | None]:
    after = decode_cursor(cursor)
    if after:
        moment, last_id = after
        queryset = queryset.filter(Q(**{f"{field}__lt": moment}) | Q(**{field: moment, "pk__lt": last_id}))
    rows = list(queryset.order_by(f"-{field}", "-pk")[: size + 1])
    next_cursor = None
    if len(rows) > size:
        last = rows[size - 1]
        next_cursor = encode_cursor([getattr(last, field).isoformat(), last.pk])
    return rows[:size], next_cursor


def page_schema(name: str, item: type[serializers.Serializer], next_field: str = "next_cursor"):
    """The OpenAPI shape of one page of a list: its results and where the next page starts."""
    return inline_serializer(name, {"results": item(many=True), next_field: serializers.CharField(allow_null=True)})


def int_param(params, name: str) -> int | None:
    """A whole-number query parameter, or a 400 naming it."""
    value = params.get(name)
    if value in (None, ""):
        return None
    try:
        return int(value)
    except ValueError:
        raise ValidationError({name: [_("Expected a whole number.")]}) from None
