"""Customer media (photos, documents, voice notes), fetched from WhatsApp only when someone opens it.

Meta keeps media for a limited time and its URLs expire within minutes, so the bytes are cached
(Redis, a day) after the first view; the shop's token never reaches the browser.
"""

from django.core.cache import cache

from whatsapp.channel.models import WhatsAppAccount

from . import graph

CACHE_SECONDS = 24 * 60 * 60
MAX_CACHED_BYTES = 5 * 1024 * 1024


def fetch(account: WhatsAppAccount, media_id: str) -> tuple[bytes, str]:
    """Returns (content, mime type); raises graph.GraphError with WhatsApp's reason."""
    key = f"wa-media:{media_id}"
    if cached := cache.get(key):
        return cached
    info = graph.media_url(media_id, account.access_token)
    content = graph.download(info["url"], account.access_token)
    result = (content, info.get("mime_type", "application/octet-stream"))
    if len(content) <= MAX_CACHED_BYTES:
        cache.set(key, result, CACHE_SECONDS)
    return result
