"""Who may call a shop API: members of the request's shop, by role."""

from django.utils.translation import gettext as _
from rest_framework import permissions

from . import scopes
from .authentication import is_token_request
from .models import MANAGER_ROLES, Role
from .services.access import membership_for


def request_membership(request):
    """The caller's membership in the request's shop (cached on the request), or None."""
    if not hasattr(request, "_membership"):
        tenant = getattr(request, "tenant", None)
        request._membership = (
            membership_for(request.user, tenant)
            if tenant is not None and tenant.schema_name != "public" and not is_token_request(request)
            else None
        )
    return request._membership


class IsShopMember(permissions.BasePermission):
    """A staff member of this shop, or an API token issued by it and allowed this area (tenants/scopes.py)."""

    message = _("Log in to this shop first.")

    def has_permission(self, request, view):
        if is_token_request(request):
            return request.auth.shop_id == request.tenant.pk and self.token_may(request)
        return request_membership(request) is not None

    def token_may(self, request) -> bool:
        required = scopes.required_scope(request.resolver_match.route, request.method)
        if required is None:
            self.message = _("API tokens cannot use this part of the API.")
            return False
        if not scopes.grants(request.auth.scopes, required):
            self.message = _(
                "This API token lacks the “%(scope)s” permission. Make a token that has it in Settings > API tokens."
            ) % {"scope": required}
            return False
        return True


class IsShopManager(permissions.BasePermission):
    """Owners and admins, by session only: API tokens never manage people or tokens."""

    message = _("Only the shop's owners and admins can do this.")

    def has_permission(self, request, view):
        membership = request_membership(request)
        return membership is not None and membership.role in MANAGER_ROLES


class IsShopOwner(permissions.BasePermission):
    """The shop's owners, by session only: taking all of a shop's data out is theirs alone."""

    message = _("Only the shop's owners can do this.")

    def has_permission(self, request, view):
        membership = request_membership(request)
        return membership is not None and membership.role == Role.OWNER
