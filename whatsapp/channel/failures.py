"""The one writer of DeliveryFailure: called wherever a message ends failed."""

from django.db import connection

from tenants.models import Shop

from .models import DeliveryFailure


def record_failure(message_id: int, error_code: int | None, reason: str) -> None:
    """Runs in the shop's schema; finds the shop by the active schema."""
    shop_id = Shop.objects.filter(schema_name=connection.schema_name).values_list("pk", flat=True).first()
    if shop_id is not None and connection.schema_name != "public":
        DeliveryFailure.objects.create(
            shop_id=shop_id, message_id=message_id, error_code=error_code, reason=reason[:300]
        )
