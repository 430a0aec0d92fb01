"""Test data builders. Shops are made through the real signup service, people with factory-boy."""

import itertools
import secrets

import factory

from tenants.models import Membership, Role, Shop, User
from tenants.services.signup import SignupForm, sign_up

PASSWORD = "Kopi-Susu-2026!"
_shop_numbers = itertools.count(1)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.test")
    name = factory.Faker("name", locale="id_ID")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @classmethod
    def _after_postgeneration(cls, instance, create, results=None):
        if create:
            instance.save()


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    role = Role.AGENT


def signup_form(**overrides) -> SignupForm:
    number = next(_shop_numbers)
    values = {
        "shop_name": f"Toko Contoh {number}",
        "subdomain": f"toko-{number}-{secrets.token_hex(3)}",
        "owner_name": "Sari Wulandari",
        "email": f"owner{number}-{secrets.token_hex(3)}@example.test",
        "password": PASSWORD,
        "phone": "",
    }
    values.update(overrides)
    return SignupForm(**values)


def create_shop(**overrides) -> tuple[Shop, User]:
    return sign_up(signup_form(**overrides))
