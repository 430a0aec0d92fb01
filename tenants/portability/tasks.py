from config.celery import app

from . import services


@app.task(ignore_result=True)
def export_shop_data(export_id: int) -> None:
    """Writes an owner's export in the background (minutes for a large shop)."""
    services.run_export(export_id)


@app.task(ignore_result=True)
def expire_shop_exports() -> int:
    """Deletes export files past SHOP_EXPORT_KEEP_HOURS (beat, hourly)."""
    return services.expire_exports()
