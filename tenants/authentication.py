"""DRF authentication bound to the shop of the request's host."""

from django.db import connection
from django.utils.translation import gettext as _
from rest_framework import authentication, exceptions

from .models import ApiToken
from .services.access import API_TOKEN_PREFIX, SESSION_SHOP_KEY, authenticate_api_token


class ShopSessionAuthentication(authentication.SessionAuthentication):
    """A Django session counts only on the shop domain where it was started."""

    def authenticate(self, request):
        result = super().authenticate(request)
        if result is None:
            return None
        tenant = getattr(request._request, "tenant", None) or connection.tenant
        if tenant.schema_name != "public" and request._request.session.get(SESSION_SHOP_KEY) != tenant.pk:
            return None
        return result


class ApiTokenAuthentication(authentication.BaseAuthentication):
    """`Authorization: Bearer wrg_...`, valid on the issuing shop's domain only."""

    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1").split()
        if len(header) != 2 or header[0] != self.keyword or not header[1].startswith(API_TOKEN_PREFIX):
            return None
        tenant = getattr(request._request, "tenant", None)
        if tenant is None or tenant.schema_name == "public":
            raise exceptions.AuthenticationFailed(_("API tokens work on the shop's own domain only."))
        token = authenticate_api_token(tenant, header[1])
        if token is None:
            raise exceptions.AuthenticationFailed(_("Invalid or revoked API token."))
        return token.created_by, token

    def authenticate_header(self, request):
        return self.keyword


def is_token_request(request) -> bool:
    return isinstance(request.auth, ApiToken)
