"""Orders recorded from the chat (or by hand), their status flow and the customer notifications."""

from django.db.models import Prefetch, Q
from django.shortcuts import get_object_or_404
from django.urls import path
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.decorators import api_view, permission_classes
from rest_framework.response import Response

from crm.models import Contact, Order, OrderItem, ShopSettings
from crm.serializers import (
    OrderCreateSerializer,
    OrderSerializer,
    OrderTemplatesSerializer,
    OrderUpdateSerializer,
    StatusChangeSerializer,
)
from crm.services import orders as service
from tenants.permissions import IsShopManager, IsShopMember
from whatsapp.serializers import user_names

from .common import int_param, page_by_id, page_schema
from .contacts import actor_id


def _orders():
    return Order.objects.select_related("contact").prefetch_related(Prefetch("items", OrderItem.objects.order_by("pk")))


def _body(order: Order, **extra) -> dict:
    names = user_names(h.get("by") for h in order.status_history)
    return {**OrderSerializer(order, context={"names": names}).data, **extra}


@extend_schema(methods=["GET"], parameters=[OpenApiParameter(p, str) for p in ("status", "contact_id", "q", "cursor")],
               responses=page_schema("OrderPage", OrderSerializer), tags=["orders"])  # fmt: skip
@extend_schema(methods=["POST"], request=OrderCreateSerializer, responses={201: OrderSerializer}, tags=["orders"])
@api_view(["GET", "POST"])
@permission_classes([IsShopMember])
def orders(request):
    if request.method == "POST":
        serializer = OrderCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        contact = get_object_or_404(Contact, pk=data.pop("contact_id"), merged_into__isnull=True)
        order = service.create_order(contact=contact, actor_id=actor_id(request), **data)
        return Response(_body(_orders().get(pk=order.pk)), status=status.HTTP_201_CREATED)
    queryset = _orders()
    params = request.query_params
    if state := params.get("status"):
        queryset = queryset.filter(status=state)
    if contact_id := int_param(params, "contact_id"):
        queryset = queryset.filter(contact_id=contact_id)
    if q := params.get("q", "").strip():
        queryset = queryset.filter(Q(number__icontains=q) | Q(contact__name__icontains=q))
    rows, next_cursor = page_by_id(queryset, params.get("cursor"))
    names = user_names(h.get("by") for order in rows for h in order.status_history)
    return Response({"results": OrderSerializer(rows, many=True, context={"names": names}).data,
                     "next_cursor": next_cursor})  # fmt: skip


@extend_schema(methods=["GET"], responses=OrderSerializer, tags=["orders"])
@extend_schema(methods=["PATCH"], request=OrderUpdateSerializer, responses=OrderSerializer, tags=["orders"])
@api_view(["GET", "PATCH"])
@permission_classes([IsShopMember])
def order(request, order_id: int):
    found = get_object_or_404(_orders(), pk=order_id)
    if request.method == "PATCH":
        serializer = OrderUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        for field, value in serializer.validated_data.items():
            setattr(found, field, value)
        found.save(update_fields=[*serializer.validated_data, "updated_at"])
    return Response(_body(found))


@extend_schema(request=StatusChangeSerializer, responses=OrderSerializer, tags=["orders"])
@api_view(["POST"])
@permission_classes([IsShopMember])
def change_status(request, order_id: int):
    """Moves the order along its flow; optionally tells the customer on WhatsApp."""
    found = get_object_or_404(_orders(), pk=order_id)
    serializer = StatusChangeSerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    notification = service.change_status(found, actor_id=actor_id(request), **serializer.validated_data)
    return Response(_body(_orders().get(pk=found.pk), notification=notification))


@extend_schema(methods=["GET"], responses=OrderTemplatesSerializer, tags=["orders"])
@extend_schema(methods=["PUT"], request=OrderTemplatesSerializer, responses=OrderTemplatesSerializer, tags=["orders"])
@api_view(["GET", "PUT"])
@permission_classes([IsShopMember])
def order_notifications(request):
    """Which WhatsApp template tells the customer that an order was confirmed, paid or shipped."""
    if request.method == "PUT":
        if not IsShopManager().has_permission(request, None):
            return Response({"detail": IsShopManager.message}, status=status.HTTP_403_FORBIDDEN)
        serializer = OrderTemplatesSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response(service.set_order_templates(serializer.validated_data))
    settings = ShopSettings.objects.first()
    current = settings.order_templates if settings else {}
    return Response({status_name: current.get(status_name) for status_name in service.NOTIFIABLE})


urlpatterns = [
    path("orders/", orders),
    path("orders/<int:order_id>/", order),
    path("orders/<int:order_id>/status/", change_status),
    path("order-notifications/", order_notifications),
]
