"""Logging in and out of one shop, and getting back in after a forgotten password."""

from django.contrib.auth import logout
from django.http import HttpResponseRedirect
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import ensure_csrf_cookie
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import permissions, serializers
from rest_framework.decorators import api_view, permission_classes, throttle_classes
from rest_framework.response import Response

from ..permissions import IsShopMember, request_membership
from ..serializers import (
    LoginSerializer,
    PasswordResetConfirmSerializer,
    PasswordResetSerializer,
    SessionSerializer,
)
from ..services import access
from ..throttles import LoginEmailThrottle, LoginIpThrottle, PasswordResetThrottle


def session_body(request, membership) -> dict:
    user = membership.user
    return SessionSerializer(
        {
            "user": {"id": user.pk, "name": user.name, "email": user.email},
            "role": membership.role,
            "shop": request.tenant,
        }
    ).data


@extend_schema(responses=inline_serializer("Csrf", {"csrfToken": serializers.CharField()}), tags=["auth"])
@api_view(["GET"])
@permission_classes([permissions.AllowAny])
@ensure_csrf_cookie
def csrf(request):
    return Response({"csrfToken": get_token(request)})


@extend_schema(responses=SessionSerializer, tags=["auth"])
@api_view(["GET"])
@permission_classes([IsShopMember])
def session(request):
    """Who is logged in here, with which role, in which shop."""
    membership = request_membership(request)
    if membership is None:  # an API token has no staff session
        return Response({"detail": _("This endpoint needs a staff session.")}, status=403)
    return Response(session_body(request, membership))


@extend_schema(request=LoginSerializer, responses=SessionSerializer, tags=["auth"])
@api_view(["POST"])
@permission_classes([permissions.AllowAny])
@throttle_classes([LoginEmailThrottle, LoginIpThrottle])
def login(request):
    serializer = LoginSerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    membership = access.log_in_with_password(request._request, request.tenant, **serializer.validated_data)
    return Response(session_body(request, membership))


@extend_schema(request=None, responses={204: None}, tags=["auth"])
@api_view(["POST"])
@permission_classes([permissions.AllowAny])
def logout_view(request):
    logout(request._request)
    return Response(status=204)


@extend_schema(request=PasswordResetSerializer, responses={200: None}, tags=["auth"])
@api_view(["POST"])
@permission_classes([permissions.AllowAny])
@throttle_classes([PasswordResetThrottle])
def password_reset(request):
    """Emails a reset link to a member of this shop; answers the same whether or not the address is known."""
    serializer = PasswordResetSerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    access.send_password_reset(request.tenant, serializer.validated_data["email"])
    return Response({"detail": _("If the address is registered, we sent a link to reset the password.")})


@extend_schema(request=PasswordResetConfirmSerializer, responses={200: None}, tags=["auth"])
@api_view(["POST"])
@permission_classes([permissions.AllowAny])
@throttle_classes([PasswordResetThrottle])
def password_reset_confirm(request):
    serializer = PasswordResetConfirmSerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    access.reset_password(**serializer.validated_data)
    return Response({"detail": _("Your password was changed. You can log in now.")})


def login_handoff(request, token: str):
    """Lands a new owner, logged in, on their shop's dashboard right after signup."""
    if access.redeem_login_handoff(request, request.tenant, token):
        return HttpResponseRedirect("/inbox")
    return render(request, "handoff_expired.html", {"shop": request.tenant}, status=400)
