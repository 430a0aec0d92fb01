from config.celery import app
from config.redis import redis_client

from . import provisioning
from .services import deletion


@app.task(ignore_result=True)
def refill_shop_pool() -> int:
    """Keeps SHOP_POOL_SIZE ready schemas; queued after each signup and by beat every minute."""
    # One refiller at a time: two would both see the pool short and overshoot.
    lock = redis_client().lock("warung:refill-shop-pool", timeout=600, blocking=False)
    if not lock.acquire():
        return 0
    try:
        return provisioning.refill_pool()
    finally:
        lock.release()


@app.task(ignore_result=True)
def delete_due_shops() -> list[str]:
    """Beat, hourly: drops the schemas of shops whose deletion grace period is over."""
    return deletion.delete_due_shops()
