"""A shop's own domain `{slug}.{PLATFORM_DOMAIN}`: the dashboard and its API."""

from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from config.health import healthz, readyz
from tenants.views import auth, pages, team

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
    path("tokens/", team.api_tokens),
    path("tokens/<int:token_id>/", team.api_token),
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
