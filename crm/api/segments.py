"""API of the CRM's segments (shop domain, under /api/crm/): saved rules, built-in groups, RFM refresh."""

import csv
import io

from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.urls import path
from django.utils.translation import gettext as _
from django_tenants.utils import schema_context
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.decorators import api_view, permission_classes
from rest_framework.response import Response

from crm.models import Contact, Segment
from crm.serializers import rfm_segment
from crm.services import segments as service
from tenants.permissions import IsShopManager, IsShopMember
from tenants.services.errors import PermissionDenied

from .common import decode_cursor, encode_cursor, page_by_id

CONTACT_FIELDS = ["id", "name", "phone", "email", "city", "total_spent", "order_count", "last_order_at", "rfm_segment"]
EXPORT_CHUNK = 2000


class SegmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Segment
        fields = ["id", "name", "rules", "created_at"]


class SegmentWriteSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=80, required=False)
    rules = serializers.JSONField(required=False)


class RulesSerializer(serializers.Serializer):
    rules = serializers.JSONField()


class SegmentContactSerializer(serializers.ModelSerializer):
    rfm_segment = serializers.SerializerMethodField()

    class Meta:
        model = Contact
        fields = CONTACT_FIELDS

    def get_rfm_segment(self, contact) -> str:
        return rfm_segment(contact)


COUNT = inline_serializer("SegmentCount", {"count": serializers.IntegerField()})
CONTACT_PAGE = inline_serializer(
    "SegmentContactPage",
    {"results": SegmentContactSerializer(many=True), "next_cursor": serializers.CharField(allow_null=True)},
)
CURSOR = OpenApiParameter("cursor", str, description="next_cursor of the previous page")


def _segment(segment_id: int) -> Segment:
    return get_object_or_404(Segment, pk=segment_id)


def _with_count(segment: Segment) -> dict:
    return {**SegmentSerializer(segment).data, "count": service.segment_queryset(segment.rules).count()}


@extend_schema(
    methods=["GET"],
    parameters=[CURSOR],
    responses=inline_serializer(
        "SegmentPage",
        {"results": SegmentSerializer(many=True), "next_cursor": serializers.CharField(allow_null=True)},
    ),
    tags=["segments"],
)
@extend_schema(methods=["POST"], request=SegmentWriteSerializer, responses={201: SegmentSerializer}, tags=["segments"])
@api_view(["GET", "POST"])
@permission_classes([IsShopMember])
def segments(request):
    """Saved segments by name (counts only in the detail, since each one is a query over all contacts)."""
    if request.method == "POST":
        serializer = SegmentWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        created = service.create_segment(name=data.get("name"), rules=data.get("rules", {}))
        return Response(_with_count(created), status=status.HTTP_201_CREATED)
    after = decode_cursor(request.query_params.get("cursor"))
    offset = after[0] if after and isinstance(after[0], int) else 0
    page = list(Segment.objects.order_by("name", "pk")[offset : offset + 51])
    return Response(
        {
            "results": SegmentSerializer(page[:50], many=True).data,
            "next_cursor": encode_cursor([offset + 50]) if len(page) > 50 else None,
        }
    )


@extend_schema(methods=["PATCH"], request=SegmentWriteSerializer, responses=SegmentSerializer, tags=["segments"])
@extend_schema(methods=["GET"], responses=SegmentSerializer, tags=["segments"])
@extend_schema(methods=["DELETE"], responses={204: None}, tags=["segments"])
@api_view(["GET", "PATCH", "DELETE"])
@permission_classes([IsShopMember])
def segment(request, segment_id: int):
    """With `count`, the number of contacts in it now. Deleting needs an owner or admin."""
    found = _segment(segment_id)
    if request.method == "DELETE":
        if not IsShopManager().has_permission(request, None):
            raise PermissionDenied(IsShopManager.message)
        service.delete_segment(found)
        return Response(status=status.HTTP_204_NO_CONTENT)
    if request.method == "PATCH":
        serializer = SegmentWriteSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        found = service.update_segment(found, **serializer.validated_data)
    return Response(_with_count(found))


@extend_schema(request=RulesSerializer, responses=COUNT, tags=["segments"])
@api_view(["POST"])
@permission_classes([IsShopMember])
def preview(request):
    """How many contacts the rules match, for the editor to show as the rules change."""
    serializer = RulesSerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    return Response({"count": service.segment_queryset(serializer.validated_data["rules"]).count()})


def _contacts_page(request, queryset) -> Response:
    columns = [field for field in CONTACT_FIELDS if field != "rfm_segment"]
    page, next_cursor = page_by_id(queryset.only(*columns).prefetch_related("rfm"), request.query_params.get("cursor"))
    return Response({"results": SegmentContactSerializer(page, many=True).data, "next_cursor": next_cursor})


@extend_schema(parameters=[CURSOR], responses=CONTACT_PAGE, tags=["segments"])
@api_view(["GET"])
@permission_classes([IsShopMember])
def segment_contacts(request, segment_id: int):
    """The segment's contacts, newest first."""
    return _contacts_page(request, service.segment_queryset(_segment(segment_id).rules))


def _csv_line(values) -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerow(values)
    return buffer.getvalue()


def _spreadsheet_safe(text: str) -> str:
    """Free text that Excel would run as a formula gets a leading apostrophe."""
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _export(request, queryset, filename: str) -> StreamingHttpResponse:
    """All matching contacts as CSV (UTF-8 with BOM for Excel), read in id-ordered chunks while streaming."""
    schema_name, zone = request.tenant.schema_name, service.shop_zone()
    header = [_("ID"), _("Name"), _("Phone"), _("Email"), _("City"), _("Total spent"), _("Orders")]
    header += [_("Last order"), _("RFM group")]

    def lines():
        yield "\ufeff" + _csv_line(header)
        last_id = 0
        while True:
            with schema_context(schema_name):
                columns = [field if field != "rfm_segment" else "rfm__segment" for field in CONTACT_FIELDS]
                chunk = list(queryset.filter(pk__gt=last_id).order_by("pk").values_list(*columns)[:EXPORT_CHUNK])
            for pk, name, phone, email, city, spent, orders, last_order_at, rfm in chunk:
                last_order = last_order_at.astimezone(zone).strftime("%Y-%m-%d %H:%M") if last_order_at else ""
                safe = [_spreadsheet_safe(value) for value in (name, email, city)]
                yield _csv_line([pk, safe[0], phone or "", safe[1], safe[2], spent, orders, last_order, rfm or ""])
            if len(chunk) < EXPORT_CHUNK:
                return
            last_id = chunk[-1][0]

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
    return response


@extend_schema(responses={(200, "text/csv"): bytes}, tags=["segments"])
@api_view(["GET"])
@permission_classes([IsShopMember])
def segment_export(request, segment_id: int):
    found = _segment(segment_id)
    return _export(request, service.segment_queryset(found.rules), f"segment-{found.pk}")


@extend_schema(
    responses=inline_serializer(
        "BuiltinSegment",
        {"key": serializers.CharField(), "name": serializers.CharField(), "count": serializers.IntegerField()},
        many=True,
    ),
    tags=["segments"],
)
@api_view(["GET"])
@permission_classes([IsShopMember])
def builtin(request):
    """The RFM groups, then active, passive and loyal customers, with their sizes."""
    return Response(service.builtin_counts())


@extend_schema(parameters=[CURSOR], responses=CONTACT_PAGE, tags=["segments"])
@api_view(["GET"])
@permission_classes([IsShopMember])
def builtin_contacts(request, key: str):
    return _contacts_page(request, service.segment_queryset(service.builtin_rules(key)))


@extend_schema(
    request=None,
    responses=inline_serializer(
        "RfmRefreshed", {"refreshed": serializers.IntegerField(), "at": serializers.DateTimeField()}
    ),
    tags=["segments"],
)
@api_view(["POST"])
@permission_classes([IsShopMember])
def rfm_refresh(request):
    """Recomputes every customer's RFM scores and group now (one SQL statement)."""
    scored, at = service.refresh_rfm()
    return Response({"refreshed": scored, "at": at.isoformat()})


urlpatterns = [
    path("segments/", segments, name="crm-segments"),
    path("segments/preview/", preview, name="crm-segment-preview"),
    path("segments/builtin/", builtin, name="crm-segments-builtin"),
    path("segments/builtin/<str:key>/contacts/", builtin_contacts, name="crm-segment-builtin-contacts"),
    path("segments/<int:segment_id>/", segment, name="crm-segment"),
    path("segments/<int:segment_id>/contacts/", segment_contacts, name="crm-segment-contacts"),
    path("segments/<int:segment_id>/export/", segment_export, name="crm-segment-export"),
    path("rfm/refresh/", rfm_refresh, name="crm-rfm-refresh"),
]
