"""API of the CRM's pipeline (shop domain, under /api/crm/): stages, deals, the board and its metrics."""

import datetime as dt
import zoneinfo

from django.shortcuts import get_object_or_404
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.decorators import api_view, permission_classes
from rest_framework.response import Response

from crm.models import Contact, Deal, Stage
from crm.serializers_pipeline import (
    BoardSerializer,
    DealCardSerializer,
    DealCreateSerializer,
    DealMoveSerializer,
    DealPageSerializer,
    DealSerializer,
    DealUpdateSerializer,
    MetricsSerializer,
    StageSerializer,
    StageWriteSerializer,
)
from crm.services import pipeline
from tenants.models import Membership
from tenants.permissions import IsShopManager, IsShopMember, request_membership
from tenants.services.errors import PermissionDenied, ServiceError
from whatsapp.serializers import user_names

OWNER_FILTER = OpenApiParameter("owner_id", int, description="Only this team member's deals")


def _actor_id(request) -> int | None:
    membership = request_membership(request)
    return membership.user_id if membership else None


def _require_manager(request) -> None:
    if not IsShopManager().has_permission(request, None):
        raise PermissionDenied(IsShopManager.message)


def _query_id(request, name: str) -> int | None:
    raw = request.query_params.get(name, "").strip()
    if not raw:
        return None
    if not raw.isdigit():
        raise ServiceError(_("Expected a number."), field=name)
    return int(raw)


def _query_date(request, name: str, default: dt.date) -> dt.date:
    raw = request.query_params.get(name, "").strip()
    if not raw:
        return default
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise ServiceError(_("Use a date like 2026-01-31."), field=name) from None


def _team_member(request, user_id: int | None) -> int | None:
    if user_id is not None and not Membership.objects.filter(shop=request.tenant, user_id=user_id).exists():
        raise ServiceError(_("Choose someone on the team as the owner."), field="owner_id")
    return user_id


def _stage_from_body(stage_id: int) -> Stage:
    stage = Stage.objects.filter(pk=stage_id).first()
    if stage is None:
        raise ServiceError(_("This stage no longer exists."), field="stage_id")
    return stage


def _deal(deal_id: int) -> Deal:
    return get_object_or_404(Deal.objects.select_related("stage", "contact"), pk=deal_id)


def _deal_response(deal: Deal, status_code: int = status.HTTP_200_OK) -> Response:
    history = list(pipeline.deal_history(deal))
    names = user_names([deal.owner_id, *(change.actor_id for change in history)])
    return Response(DealSerializer(deal, context={"names": names, "history": history}).data, status=status_code)


# Stages


@extend_schema(methods=["GET"], responses=StageSerializer(many=True), tags=["pipeline"])
@extend_schema(methods=["POST"], request=StageWriteSerializer, responses={201: StageSerializer}, tags=["pipeline"])
@api_view(["GET", "POST"])
@permission_classes([IsShopMember])
def stages(request):
    """The pipeline's columns in order (at most 20), each with its deal count and total value."""
    if request.method == "POST":
        _require_manager(request)
        serializer = StageWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        created = pipeline.create_stage(**serializer.validated_data)
        return Response(
            StageSerializer(pipeline.stages_with_totals().get(pk=created.pk)).data, status=status.HTTP_201_CREATED
        )
    return Response(StageSerializer(pipeline.stages_with_totals(), many=True).data)


@extend_schema(methods=["PATCH"], request=StageWriteSerializer, responses=StageSerializer, tags=["pipeline"])
@extend_schema(methods=["DELETE"], responses={204: None}, tags=["pipeline"])
@api_view(["PATCH", "DELETE"])
@permission_classes([IsShopMember])
def stage(request, stage_id: int):
    """Managers rename, re-kind or reorder a stage; a stage with deals, or the last won/lost one, stays."""
    _require_manager(request)
    found = get_object_or_404(Stage, pk=stage_id)
    if request.method == "DELETE":
        pipeline.delete_stage(found)
        return Response(status=status.HTTP_204_NO_CONTENT)
    serializer = StageWriteSerializer(data=request.data, partial=True)
    serializer.is_valid(raise_exception=True)
    pipeline.update_stage(found, **serializer.validated_data)
    return Response(StageSerializer(pipeline.stages_with_totals().get(pk=found.pk)).data)


# Deals


@extend_schema(
    methods=["GET"],
    parameters=[
        OpenApiParameter("stage_id", int),
        OWNER_FILTER,
        OpenApiParameter("contact_id", int),
        OpenApiParameter("offset", int),
    ],
    responses=DealPageSerializer,
    tags=["pipeline"],
)
@extend_schema(methods=["POST"], request=DealCreateSerializer, responses={201: DealSerializer}, tags=["pipeline"])
@api_view(["GET", "POST"])
@permission_classes([IsShopMember])
def deals(request):
    """GET pages deals in board order (e.g. a column past its first 50: `?stage_id=3&offset=50`)."""
    if request.method == "GET":
        offset = _query_id(request, "offset") or 0
        page, more = pipeline.deal_page(
            stage_id=_query_id(request, "stage_id"),
            owner_id=_query_id(request, "owner_id"),
            contact_id=_query_id(request, "contact_id"),
            offset=offset,
        )
        names = user_names(deal.owner_id for deal in page)
        return Response(
            {
                "results": DealCardSerializer(page, many=True, context={"names": names}).data,
                "next": offset + len(page) if more else None,
            }
        )
    serializer = DealCreateSerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    data = serializer.validated_data
    contact = Contact.objects.filter(pk=data["contact_id"]).first()
    if contact is None:
        raise ServiceError(_("Choose an existing contact."), field="contact_id")
    if "stage_id" in data:
        stage_found = _stage_from_body(data["stage_id"])
    elif (stage_found := pipeline.first_open_stage()) is None:
        raise ServiceError(_("Add an open stage to the pipeline first."), field="stage_id")
    created = pipeline.create_deal(
        title=data["title"],
        contact=contact,
        stage=stage_found,
        value=data["value"],
        currency=request.tenant.currency,
        expected_close=data.get("expected_close"),
        owner_id=_team_member(request, data.get("owner_id", _actor_id(request))),
        notes=data["notes"],
        actor_id=_actor_id(request),
    )
    return _deal_response(_deal(created.pk), status.HTTP_201_CREATED)


@extend_schema(methods=["GET"], responses=DealSerializer, tags=["pipeline"])
@extend_schema(methods=["PATCH"], request=DealUpdateSerializer, responses=DealSerializer, tags=["pipeline"])
@api_view(["GET", "PATCH"])
@permission_classes([IsShopMember])
def deal(request, deal_id: int):
    found = _deal(deal_id)
    if request.method == "PATCH":
        serializer = DealUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        changes = serializer.validated_data
        if "owner_id" in changes:
            _team_member(request, changes["owner_id"])
        pipeline.update_deal(found, changes)
    return _deal_response(found)


@extend_schema(request=DealMoveSerializer, responses=DealSerializer, tags=["pipeline"])
@api_view(["POST"])
@permission_classes([IsShopMember])
def move(request, deal_id: int):
    """Drag and drop: into `stage_id` at index `position`; a lost stage needs `lost_reason`."""
    found = _deal(deal_id)
    serializer = DealMoveSerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    data = serializer.validated_data
    moved = pipeline.move_deal(
        found,
        _stage_from_body(data["stage_id"]),
        position=data.get("position"),
        lost_reason=data["lost_reason"],
        actor_id=_actor_id(request),
    )
    return _deal_response(_deal(moved.pk))


@extend_schema(parameters=[OWNER_FILTER], responses=BoardSerializer, tags=["pipeline"])
@api_view(["GET"])
@permission_classes([IsShopMember])
def board(request):
    """Every stage with its whole-column count and value and its first 50 deals, in three queries."""
    columns, shown = pipeline.board_columns(_query_id(request, "owner_id"))
    names = user_names(deal.owner_id for deal in shown)
    cards = DealCardSerializer(shown, many=True, context={"names": names}).data
    by_stage = {column.pk: [] for column in columns}
    for deal_found, card in zip(shown, cards, strict=True):
        by_stage[deal_found.stage_id].append(card)
    return Response(
        {
            "stages": [
                {
                    "id": column.pk,
                    "name": column.name,
                    "kind": column.kind,
                    "position": column.position,
                    "count": column.deal_count,
                    "total_value": column.total_value,
                    "deals": by_stage[column.pk],
                }
                for column in columns
            ]
        }
    )


@extend_schema(
    parameters=[
        OpenApiParameter("from", dt.date, description="First day, in the shop's time zone (default: 29 days ago)"),
        OpenApiParameter("to", dt.date, description="Last day, included (default: today)"),
        OWNER_FILTER,
    ],
    responses=MetricsSerializer,
    tags=["pipeline"],
)
@api_view(["GET"])
@permission_classes([IsShopMember])
def metrics(request):
    """Closing rate, win rate per owner, time to close, funnel and lost reasons over a period."""
    time_zone = request.tenant.time_zone or "Asia/Jakarta"
    today = timezone.now().astimezone(zoneinfo.ZoneInfo(time_zone)).date()
    end = _query_date(request, "to", today)
    start = _query_date(request, "from", end - dt.timedelta(days=29))
    if start > end:
        raise ServiceError(_("The period must start before it ends."), field="from")
    return Response(pipeline.pipeline_metrics(start, end, time_zone=time_zone, owner_id=_query_id(request, "owner_id")))


urlpatterns = [
    path("stages/", stages),
    path("stages/<int:stage_id>/", stage),
    path("deals/", deals),
    path("deals/board/", board),
    path("deals/<int:deal_id>/", deal),
    path("deals/<int:deal_id>/move/", move),
    path("pipeline/metrics/", metrics),
]
