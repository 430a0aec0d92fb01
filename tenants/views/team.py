"""Settings > Team and Settings > API tokens, plus the invitation landing page's API."""

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import permissions, status
from rest_framework.decorators import api_view, permission_classes
from rest_framework.response import Response

from .. import scopes
from ..activity.models import ActivityEvent
from ..models import ApiToken, Invitation, Membership
from ..permissions import IsShopManager, IsShopMember, request_membership
from ..serializers import (
    ActivityEventSerializer,
    ApiTokenCreateSerializer,
    ApiTokenSerializer,
    InvitationAcceptSerializer,
    InvitationCreateSerializer,
    InvitationPreviewSerializer,
    InvitationSerializer,
    MemberSerializer,
    RoleChangeSerializer,
    TokenAreaSerializer,
)
from ..services import access, team
from ..services.errors import ServiceError
from .auth import session_body


@extend_schema(responses=MemberSerializer(many=True), tags=["team"])
@api_view(["GET"])
@permission_classes([IsShopMember])
def members(request):
    queryset = Membership.objects.filter(shop=request.tenant).select_related("user").order_by("created_at", "pk")
    return Response(MemberSerializer(queryset, many=True).data)


@extend_schema(methods=["PATCH"], request=RoleChangeSerializer, responses=MemberSerializer, tags=["team"])
@extend_schema(methods=["DELETE"], responses={204: None}, tags=["team"])
@api_view(["PATCH", "DELETE"])
@permission_classes([IsShopMember])
def member(request, membership_id: int):
    actor = request_membership(request)
    if actor is None:
        return Response({"detail": _("This endpoint needs a staff session.")}, status=403)
    if request.method == "DELETE":
        team.remove_member(actor, membership_id)
        return Response(status=status.HTTP_204_NO_CONTENT)
    serializer = RoleChangeSerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    changed = team.change_role(actor, membership_id, serializer.validated_data["role"])
    return Response(MemberSerializer(changed).data)


@extend_schema(methods=["GET"], responses=InvitationSerializer(many=True), tags=["team"])
@extend_schema(
    methods=["POST"], request=InvitationCreateSerializer, responses={201: InvitationSerializer}, tags=["team"]
)
@api_view(["GET", "POST"])
@permission_classes([IsShopManager])
def invitations(request):
    if request.method == "GET":
        pending = [i for i in Invitation.objects.filter(shop=request.tenant).order_by("-created_at") if i.is_pending]
        return Response(InvitationSerializer(pending, many=True).data)
    serializer = InvitationCreateSerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    invitation, link = team.invite(request_membership(request), **serializer.validated_data)
    return Response(InvitationSerializer(invitation, context={"accept_url": link}).data, status=status.HTTP_201_CREATED)


@extend_schema(responses={204: None}, tags=["team"])
@api_view(["DELETE"])
@permission_classes([IsShopManager])
def invitation(request, invitation_id: int):
    team.revoke_invitation(request_membership(request), invitation_id)
    return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(methods=["GET"], responses=InvitationPreviewSerializer, tags=["team"])
@api_view(["GET"])
@permission_classes([permissions.AllowAny])
def invitation_preview(request, token: str):
    pending = team.pending_invitation(request.tenant, token)
    if pending is None:
        raise ServiceError(_("This invitation is invalid, used or expired. Ask for a new one."), code="not_found")
    return Response({"shop_name": request.tenant.name, "email": pending.email, "role": pending.role})


@extend_schema(request=InvitationAcceptSerializer, tags=["team"])
@api_view(["POST"])
@permission_classes([permissions.AllowAny])
def invitation_accept(request, token: str):
    """Joins the shop and logs the new member in on this domain."""
    serializer = InvitationAcceptSerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    membership = team.accept_invitation(request.tenant, token, **serializer.validated_data)
    access.log_in(request._request, membership.user, request.tenant)
    return Response(session_body(request, membership))


@extend_schema(methods=["GET"], responses=ApiTokenSerializer(many=True), tags=["tokens"])
@extend_schema(methods=["POST"], request=ApiTokenCreateSerializer, responses={201: ApiTokenSerializer}, tags=["tokens"])
@api_view(["GET", "POST"])
@permission_classes([IsShopManager])
def api_tokens(request):
    if request.method == "GET":
        live = ApiToken.objects.filter(shop=request.tenant, revoked_at__isnull=True).select_related("created_by")
        return Response(ApiTokenSerializer(live.order_by("-created_at"), many=True).data)
    serializer = ApiTokenCreateSerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    token, secret = access.create_api_token(request.tenant, request.user, **serializer.validated_data)
    return Response(ApiTokenSerializer(token, context={"secret": secret}).data, status=status.HTTP_201_CREATED)


@extend_schema(responses=TokenAreaSerializer(many=True), tags=["tokens"])
@api_view(["GET"])
@permission_classes([IsShopManager])
def api_token_areas(request):
    """What a token can be allowed to do, area by area: read, and for most areas write (or send)."""
    return Response(
        [
            {"area": area, "label": str(label), "read": scopes.read_scope(area), "write": scopes.write_scope(area)}
            for area, (label, _verb) in scopes.AREAS.items()
        ]
    )


@extend_schema(responses={204: None}, tags=["tokens"])
@api_view(["DELETE"])
@permission_classes([IsShopManager])
def api_token(request, token_id: int):
    access.revoke_api_token(request.tenant, request.user, token_id)
    return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(responses=ActivityEventSerializer(many=True), tags=["team"])
@api_view(["GET"])
@permission_classes([IsShopManager])
def activity(request):
    """The latest 100 things people did in this shop."""
    return Response(ActivityEventSerializer(ActivityEvent.objects.all()[:100], many=True).data)
