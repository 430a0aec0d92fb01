"""The API documents itself: OpenAPI on every host, with a browsable page that needs no CDN."""

import pytest

pytestmark = pytest.mark.django_db


def test_shop_api_schema_lists_the_dashboard_endpoints(shop_a):
    schema = shop_a.client().get("/api/schema/").content.decode()
    for path in ("/api/team/members/", "/api/auth/login/", "/api/tokens/{token_id}/"):
        assert path in schema


def test_portal_api_schema_documents_signup(portal):
    schema = portal.get("/api/schema/").content.decode()
    assert "/api/portal/signup/" in schema and "/api/team/members/" not in schema


def test_browsable_docs_load_their_assets_locally(shop_a):
    page = shop_a.client().get("/api/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "swagger-ui" in html and "cdn." not in html
