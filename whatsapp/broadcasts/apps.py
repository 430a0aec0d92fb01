from django.apps import AppConfig


class BroadcastsConfig(AppConfig):
    """Promotions to many contacts, in the shop's schema."""

    name = "whatsapp.broadcasts"
    label = "broadcasts"
    verbose_name = "Broadcasts"
