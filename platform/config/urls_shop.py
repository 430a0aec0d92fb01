"""A shop's own domain `{slug}.{PLATFORM_DOMAIN}`: the dashboard and its API."""

from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from billing import api as billing
from config.health import healthz, readyz, server_error
from tenants.portability import views as data
from tenants.views import auth, pages, shop, team
from whatsapp import views as whatsapp

rules = whatsapp.AutoReplyRules
quick_replies = whatsapp.QuickReplies

api = [
    path("auth/csrf/", auth.csrf),
    path("auth/session/", auth.session),
    path("auth/login/", auth.login),
    path("auth/logout/", auth.logout_view),
    path("auth/password-reset/", auth.password_reset),
    path("auth/password-reset/confirm/", auth.password_reset_confirm),
    path("team/members/", team.members),
    path("team/members/<int:membership_id>/", team.member),
    path("team/invitations/", team.invitations),
    path("team/invitations/<int:invitation_id>/", team.invitation),
    path("team/activity/", team.activity),
    path("invitations/<str:token>/", team.invitation_preview),
    path("invitations/<str:token>/accept/", team.invitation_accept),
    path("audit/", shop.audit_log),
    path("shop/deletion/", shop.shop_deletion),
    path("tokens/", team.api_tokens),
    path("tokens/scopes/", team.api_token_areas),
    path("tokens/<int:token_id>/", team.api_token),
    path("data/exports/", data.exports),
    path("data/exports/<int:export_id>/", data.export),
    path("data/exports/<int:export_id>/download/", data.download),
    path("inbox/conversations/", whatsapp.conversations),
    path("inbox/conversations/<int:conversation_id>/", whatsapp.conversation),
    path("inbox/conversations/<int:conversation_id>/messages/", whatsapp.messages),
    path("inbox/conversations/<int:conversation_id>/notes/", whatsapp.note),
    path("inbox/conversations/<int:conversation_id>/template/", whatsapp.send_template),
    path("inbox/conversations/<int:conversation_id>/attachments/", whatsapp.attachment),
    path("inbox/conversations/<int:conversation_id>/read/", whatsapp.mark_read),
    path("inbox/messages/<int:message_id>/media/", whatsapp.message_media),
    path("inbox/stream/", whatsapp.stream),
    path("whatsapp/account/", whatsapp.account),
    path("whatsapp/account/test/", whatsapp.test_account),
    path("whatsapp/auto-replies/", rules.as_view({"get": "list", "post": "create"})),
    path("whatsapp/auto-replies/test/", whatsapp.test_rule),
    path(
        "whatsapp/auto-replies/<int:pk>/",
        rules.as_view({"get": "retrieve", "patch": "partial_update", "delete": "destroy"}),
    ),
    path("whatsapp/business-hours/", whatsapp.business_hours),
    path("whatsapp/quick-replies/", quick_replies.as_view({"get": "list", "post": "create"})),
    path("whatsapp/quick-replies/<int:pk>/", quick_replies.as_view({"patch": "partial_update", "delete": "destroy"})),
    path("whatsapp/templates/", whatsapp.Templates.as_view({"get": "list"})),
    path("whatsapp/templates/sync/", whatsapp.sync_templates),
    path("crm/", include("crm.urls")),
    path("broadcasts/", include("whatsapp.broadcasts.api")),
    path("billing/", billing.overview),
    path("billing/subscribe/", billing.subscribe),
    path("billing/top-up/", billing.top_up),
    path("billing/portal/", billing.customer_portal),
    path("billing/preferences/", billing.preferences),
    path("billing/invoices/", billing.invoices),
    path("schema/", SpectacularAPIView.as_view(urlconf="config.urls_shop"), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
]

urlpatterns = [
    path("healthz", healthz),
    path("readyz", readyz),
    path("auth/handoff/<str:token>/", auth.login_handoff),
    path("api/", include(api)),
    re_path(r"^(?!api/|static/).*$", pages.spa, name="dashboard"),
]

handler500 = server_error
