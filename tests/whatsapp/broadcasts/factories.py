"""Test data for broadcasts: contacts with WhatsApp numbers, approved templates, broadcasts."""

import itertools

import factory

from crm.models import Contact
from whatsapp.broadcasts.models import Broadcast
from whatsapp.models import MessageTemplate

_numbers = itertools.count(1)


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    name = factory.Sequence(lambda n: f"Pelanggan {n}")
    wa_id = factory.LazyFunction(lambda: f"62813{next(_numbers):08d}")
    phone = factory.LazyAttribute(lambda contact: f"+{contact.wa_id}" if contact.wa_id else None)


class TemplateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MessageTemplate

    name = factory.Sequence(lambda n: f"promo_{n}")
    language = "id"
    category = "MARKETING"
    status = "APPROVED"
    body_text = "Halo {{1}}, koleksi baru sudah datang! Diskon {{2}} untuk kakak."
    parameter_count = 2
    components = factory.LazyAttribute(lambda t: [{"type": "BODY", "text": t.body_text}])


class BroadcastFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Broadcast

    name = factory.Sequence(lambda n: f"Promo {n}")
    template = factory.SubFactory(TemplateFactory)
    variables = factory.LazyFunction(
        lambda: [
            {"source": "field", "value": "first_name", "fallback": "Kak"},
            {"source": "text", "value": "20%", "fallback": ""},
        ]
    )
    frequency_cap_hours = 24
