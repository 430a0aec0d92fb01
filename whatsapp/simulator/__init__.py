"""A WhatsApp Cloud API (Graph API) simulator and demo "customer phone". No Django imports here."""

from .app import SimConfig, create_app

__all__ = ["SimConfig", "create_app"]
