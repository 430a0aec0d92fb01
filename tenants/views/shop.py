"""Settings > Audit log and Settings > Shop (deletion with a grace period), on the shop's own domain."""

from django.conf import settings
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.decorators import api_view, permission_classes
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response

from ..models import AuditEvent, Role
from ..permissions import IsShopManager, request_membership
from ..serializers import AuditEventSerializer, ShopDeletionSerializer
from ..services import deletion
from ..services.errors import PermissionDenied


class AuditPages(PageNumberPagination):
    page_size = 50


AUDIT_PAGE = inline_serializer(
    "AuditPage",
    {"count": serializers.IntegerField(), "next": serializers.CharField(allow_null=True),
     "previous": serializers.CharField(allow_null=True), "results": AuditEventSerializer(many=True)},
)  # fmt: skip


@extend_schema(parameters=[OpenApiParameter("page", int)], responses=AUDIT_PAGE, tags=["audit"])
@api_view(["GET"])
@permission_classes([IsShopManager])
def audit_log(request):
    """This shop's sensitive actions, newest first, fifty a page (`?page=2`)."""
    pages = AuditPages()
    page = pages.paginate_queryset(AuditEvent.objects.filter(shop=request.tenant).order_by("-created_at", "-id"),
                                   request)  # fmt: skip
    return pages.get_paginated_response(AuditEventSerializer(page, many=True).data)


DELETION_STATE = inline_serializer(
    "ShopDeletion",
    {"status": serializers.CharField(), "deletion_due_at": serializers.DateTimeField(allow_null=True),
     "grace_days": serializers.IntegerField()},
)  # fmt: skip


@extend_schema(methods=["GET", "DELETE"], responses=DELETION_STATE, tags=["shop"])
@extend_schema(methods=["POST"], request=ShopDeletionSerializer, responses=DELETION_STATE, tags=["shop"])
@api_view(["GET", "POST", "DELETE"])
@permission_classes([IsShopManager])
def shop_deletion(request):
    """POST (an owner, with their password) schedules the deletion; DELETE (an owner) cancels it."""
    membership = request_membership(request)
    shop = request.tenant
    if request.method == "POST":
        form = ShopDeletionSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        shop = deletion.request_deletion(membership, form.validated_data["password"])
    elif request.method == "DELETE":
        if membership.role != Role.OWNER:
            raise PermissionDenied(_("Only an owner can cancel the deletion."))
        shop = deletion.cancel_deletion(shop, request.user)
    grace_days = settings.SHOP_DELETION_GRACE_DAYS
    return Response({"status": shop.status, "deletion_due_at": shop.deletion_due_at, "grace_days": grace_days})
