"""The one writer of the audit log: sensitive actions in a shop, kept in public so they outlive its schema.

Call `record("whatsapp.credentials_changed", actor=user, target=..., details={...})` from the service
that did the action, after it succeeded. The shop defaults to the schema the connection is in; the
client's address comes from the request being served (AuditRequestMiddleware), if any. Details name
what changed, never a secret's value nor a customer's phone number: callers pass ids and field names.

Actions so far: user.password_reset, whatsapp.connected, whatsapp.credentials_changed, team.invited,
team.invitation_revoked, team.role_changed, team.removed, api_token.created, api_token.revoked, broadcast.started,
broadcast.cancelled, contact.erased, shop.deletion_requested, shop.deletion_cancelled, shop.deleted,
shop.suspended, shop.reactivated, shop.exported.
"""

import contextvars
import ipaddress

from django.db import connection

from .models import AuditEvent, Shop, User

_client_ip: contextvars.ContextVar[str | None] = contextvars.ContextVar("audit_client_ip", default=None)


def record(
    action: str,
    *,
    actor: User | int | None = None,
    shop: Shop | None = None,
    target: str = "",
    details: dict | None = None,
) -> AuditEvent:
    """Writes one audit event; `actor` (a user or their id) None means the platform itself (a scheduled task)."""
    if isinstance(actor, int):
        actor = User.objects.filter(pk=actor).first()
    if shop is None:
        shop = _current_shop()
    actor = actor if actor is not None and actor.is_authenticated else None
    return AuditEvent.objects.create(
        shop=shop,
        actor=actor,
        actor_email=actor.email if actor else "",
        action=action,
        target=target[:200],
        details=details or {},
        ip=_client_ip.get(),
    )


def _current_shop() -> Shop | None:
    """The shop whose schema is active: the request's tenant, or looked up by name under schema_context."""
    tenant = getattr(connection, "tenant", None)
    if isinstance(tenant, Shop):
        return tenant if tenant.schema_name != "public" else None
    schema = getattr(connection, "schema_name", "public")
    return Shop.objects.filter(schema_name=schema).first() if schema != "public" else None


def client_ip(request) -> str | None:
    """The address our own proxy saw (the last X-Forwarded-For hop it appended), else the peer's."""
    forwarded = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
    candidate = forwarded[-1] if forwarded else request.META.get("REMOTE_ADDR", "")
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return None


class AuditRequestMiddleware:
    """Makes the client's address available to `record` while a request is served."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _client_ip.set(client_ip(request))
        try:
            return self.get_response(request)
        finally:
            _client_ip.reset(token)
