"""The public portal's API (bare platform domain): signup."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import permissions, status
from rest_framework.decorators import api_view, permission_classes, throttle_classes
from rest_framework.response import Response

from ..serializers import SignupResultSerializer, SignupSerializer, SubdomainCheckSerializer
from ..services.access import create_login_handoff
from ..services.signup import SignupForm, sign_up, subdomain_problem
from ..throttles import SignupThrottle


@extend_schema(request=SignupSerializer, responses={201: SignupResultSerializer}, tags=["portal"])
@api_view(["POST"])
@permission_classes([permissions.AllowAny])
@throttle_classes([SignupThrottle])
def signup(request):
    """Creates a shop with its owner; the owner follows `redirect_url` to land logged in on the shop."""
    serializer = SignupSerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    shop, owner = sign_up(SignupForm(**serializer.validated_data))
    handoff = create_login_handoff(owner, shop)
    return Response({"redirect_url": f"{shop.url}/auth/handoff/{handoff}/"}, status=status.HTTP_201_CREATED)


@extend_schema(
    parameters=[OpenApiParameter("subdomain", str, required=True)],
    responses=SubdomainCheckSerializer,
    tags=["portal"],
)
@api_view(["GET"])
@permission_classes([permissions.AllowAny])
def subdomain_check(request):
    problem = subdomain_problem(request.query_params.get("subdomain", "").strip().lower())
    return Response({"available": problem is None, "reason": problem})
