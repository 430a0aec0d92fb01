from django.apps import AppConfig


class ChannelConfig(AppConfig):
    """The public half of WhatsApp: accounts (routing table) and the webhook intake."""

    name = "whatsapp.channel"
    label = "whatsapp_channel"
    verbose_name = "WhatsApp routing and intake"
