"""The shop's catalog: products with their variants (size, colour, SKU, price, stock)."""

from django.db.models import Prefetch, Q
from django.shortcuts import get_object_or_404
from django.urls import path
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.decorators import api_view, permission_classes
from rest_framework.response import Response

from crm.models import Product, Variant
from crm.serializers import ProductSerializer
from crm.services.catalog import save_product
from tenants.permissions import IsShopMember

from .common import page_by_id, page_schema


def _product_fields(data) -> dict:
    return {
        "name": str(data.get("name", "")),
        "description": str(data.get("description", "")),
        "image_url": str(data.get("image_url", "")),
        "active": bool(data.get("active", True)),
        "variants": list(data.get("variants") or []),
    }


def _with_variants():
    return Product.objects.prefetch_related(Prefetch("variants", Variant.objects.order_by("pk")))


@extend_schema(methods=["GET"], parameters=[OpenApiParameter("q", str), OpenApiParameter("active", bool),
               OpenApiParameter("cursor", str)], responses=page_schema("ProductPage", ProductSerializer),
               tags=["catalog"])  # fmt: skip
@extend_schema(methods=["POST"], request=ProductSerializer, responses={201: ProductSerializer}, tags=["catalog"])
@api_view(["GET", "POST"])
@permission_classes([IsShopMember])
def products(request):
    if request.method == "POST":
        product = save_product(None, **_product_fields(request.data))
        return Response(ProductSerializer(_with_variants().get(pk=product.pk)).data, status=status.HTTP_201_CREATED)
    queryset = _with_variants()
    if q := request.query_params.get("q", "").strip():
        queryset = queryset.filter(Q(name__icontains=q) | Q(variants__sku__icontains=q)).distinct()
    if (active := request.query_params.get("active")) in ("true", "false"):
        queryset = queryset.filter(active=active == "true")
    rows, next_cursor = page_by_id(queryset, request.query_params.get("cursor"))
    return Response({"results": ProductSerializer(rows, many=True).data, "next_cursor": next_cursor})


@extend_schema(methods=["GET"], responses=ProductSerializer, tags=["catalog"])
@extend_schema(methods=["PATCH"], request=ProductSerializer, responses=ProductSerializer, tags=["catalog"])
@api_view(["GET", "PATCH"])
@permission_classes([IsShopMember])
def product(request, product_id: int):
    found = get_object_or_404(Product, pk=product_id)
    if request.method == "PATCH":
        current = ProductSerializer(_with_variants().get(pk=found.pk)).data
        save_product(found, **_product_fields({**current, **request.data}))
    return Response(ProductSerializer(_with_variants().get(pk=found.pk)).data)


@extend_schema(parameters=[OpenApiParameter("q", str)], tags=["catalog"])
@api_view(["GET"])
@permission_classes([IsShopMember])
def variants(request):
    """Sellable variants for pickers (orders, broadcasts): name, size, colour or SKU."""
    queryset = Variant.objects.filter(active=True, product__active=True).select_related("product")
    if q := request.query_params.get("q", "").strip():
        queryset = queryset.filter(Q(product__name__icontains=q) | Q(sku__icontains=q) | Q(color__icontains=q))
    return Response([
        {"id": v.pk, "sku": v.sku, "label": str(v), "price": v.price, "stock": v.stock}
        for v in queryset.order_by("product__name", "pk")[:30]
    ])  # fmt: skip


urlpatterns = [
    path("products/", products),
    path("products/<int:product_id>/", product),
    path("variants/", variants),
]
