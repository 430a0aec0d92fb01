"""The bare platform domain: signup portal, public API, operator console."""

from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from billing.views import stripe_webhook
from config.health import healthz, readyz, server_error
from config.metrics import metrics_view
from console.admin import console_site
from tenants.views import pages, portal
from whatsapp.channel.views import whatsapp_webhook

urlpatterns = [
    path("healthz", healthz),
    path("readyz", readyz),
    path("metrics", metrics_view, name="metrics"),
    path("console/", console_site.urls),
    path("webhooks/whatsapp/", whatsapp_webhook, name="whatsapp-webhook"),
    path("webhooks/stripe/", stripe_webhook, name="stripe-webhook"),
    path("api/portal/signup/", portal.signup, name="portal-signup"),
    path("api/portal/subdomain-check/", portal.subdomain_check, name="portal-subdomain-check"),
    path("api/schema/", SpectacularAPIView.as_view(urlconf="config.urls_public"), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    re_path(r"^(?!api/|static/|console/|webhooks/).*$", pages.spa, name="portal"),
]

handler500 = server_error
