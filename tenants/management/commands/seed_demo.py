"""A demo shop to click through: owner, agent, and an operator account. Idempotent."""

from django.conf import settings
from django.core.management.base import BaseCommand

from tenants.models import Membership, Role, Shop, User
from tenants.services.signup import SignupForm, sign_up

DEMO_PASSWORD = "warung-demo-2026"
DEMO_OWNER = "owner@demo.warung.test"
DEMO_AGENT = "agent@demo.warung.test"
OPERATOR = "operator@warung.test"


class Command(BaseCommand):
    help = "Create the demo shop 'demo' with an owner and an agent, and an operator account."

    def handle(self, *args, **options):
        shop = Shop.objects.filter(slug="demo").first()
        if shop is None:
            shop, _owner = sign_up(
                SignupForm(
                    shop_name="Butik Sari (demo)",
                    subdomain="demo",
                    owner_name="Sari Wulandari",
                    email=DEMO_OWNER,
                    password=DEMO_PASSWORD,
                    phone="0812-3456-7890",
                )
            )
        agent = User.objects.filter(email=DEMO_AGENT).first() or User.objects.create_user(
            DEMO_AGENT, DEMO_PASSWORD, name="Dewi (agent)"
        )
        Membership.objects.get_or_create(user=agent, shop=shop, defaults={"role": Role.AGENT})
        if not User.objects.filter(email=OPERATOR).exists():
            User.objects.create_superuser(OPERATOR, DEMO_PASSWORD, name="Platform operator")
        base = f"{settings.PLATFORM_SCHEME}://"
        self.stdout.write(
            "\n".join(
                [
                    f"  Signup portal:    {base}{settings.PLATFORM_DOMAIN}/",
                    f"  Demo dashboard:   {shop.url}/",
                    f"      owner {DEMO_OWNER} / agent {DEMO_AGENT}, password {DEMO_PASSWORD}",
                    f"  Operator console: {base}{settings.PLATFORM_DOMAIN}/console/  ({OPERATOR} / {DEMO_PASSWORD})",
                    f"  API docs:         {shop.url}/api/docs/",
                ]
            )
        )
