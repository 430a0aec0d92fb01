"""The platform layer itself: the stdlib `platform` survives, health probes, production refuses bad config."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_python(code: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": f"{ROOT / 'platform'}:{ROOT}", **env},
        capture_output=True,
        text=True,
        check=False,
    )


def test_stdlib_platform_module_still_works_inside_the_app():
    result = run_python(
        "import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'config.settings'); django.setup();"
        "import platform, celery, stripe, sentry_sdk; print(platform.system(), platform.python_version())"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Linux 3.11")


def test_production_refuses_to_start_without_its_secrets():
    result = run_python("import config.settings", DJANGO_ENV="production", SECRET_KEY="", FIELD_ENCRYPTION_KEYS="")
    assert result.returncode != 0
    for name in ("SECRET_KEY", "FIELD_ENCRYPTION_KEYS", "STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET"):
        assert name in result.stderr


def test_production_starts_with_its_secrets():
    result = run_python(
        "import config.settings as s; print(s.DEBUG, s.SESSION_COOKIE_SECURE)",
        DJANGO_ENV="production",
        SECRET_KEY="x" * 50,
        FIELD_ENCRYPTION_KEYS="k1",
        STRIPE_SECRET_KEY="sk_live_x",
        STRIPE_WEBHOOK_SECRET="whsec_x",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False True"


def test_health_probes_answer_on_the_portal_and_on_a_shop(db, portal, shop_a):
    assert portal.get("/healthz").json() == {"status": "ok"}
    ready = shop_a.client().get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": "ok", "redis": "ok"}


def test_every_response_carries_a_request_id(db, portal):
    response = portal.get("/healthz", HTTP_X_REQUEST_ID="abc123")
    assert response["X-Request-ID"] == "abc123"
    assert len(portal.get("/healthz")["X-Request-ID"]) == 32


def test_models_and_migrations_agree(db):
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("makemigrations", "--check", "--dry-run", stdout=out)
    assert "No changes detected" in out.getvalue()
