"""Settings for every process (web, worker, beat, tests), read from the environment.

Development defaults let `make run` work with nothing set; production
(`DJANGO_ENV=production`) refuses to start without its secrets.
"""

from pathlib import Path

import environ
from celery.schedules import crontab
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured

ROOT_DIR = Path(__file__).resolve().parents[2]
env = environ.Env()

DJANGO_ENV = env("DJANGO_ENV", default="development")
IS_PRODUCTION = DJANGO_ENV == "production"
DEBUG = env.bool("DJANGO_DEBUG", default=not IS_PRODUCTION)

_DEV_SECRET_KEY = "dev-insecure-secret-key-change-me-0123456789abcdefghijklmnopqrstuvwxyz"
# A fixed development Fernet key (32 url-safe base64 bytes); never valid in production.
_DEV_FIELD_ENCRYPTION_KEY = "ZGV2LW9ubHktZmllbGQtZW5jcnlwdGlvbi1rZXktMDA="

SECRET_KEY = env("SECRET_KEY", default=None)
FIELD_ENCRYPTION_KEYS = env.list("FIELD_ENCRYPTION_KEYS", default=[])
if IS_PRODUCTION:
    missing = [
        name
        for name, value in (
            ("SECRET_KEY", SECRET_KEY),
            ("FIELD_ENCRYPTION_KEYS", FIELD_ENCRYPTION_KEYS),
            ("STRIPE_SECRET_KEY", env("STRIPE_SECRET_KEY", default="")),
            ("STRIPE_WEBHOOK_SECRET", env("STRIPE_WEBHOOK_SECRET", default="")),
        )
        if not value
    ]
    if missing:
        raise ImproperlyConfigured(f"Production needs these environment variables: {', '.join(missing)}")
SECRET_KEY = SECRET_KEY or _DEV_SECRET_KEY
FIELD_ENCRYPTION_KEYS = FIELD_ENCRYPTION_KEYS or [_DEV_FIELD_ENCRYPTION_KEY]

# `localhost:8000` in development; shops live on `{slug}.{PLATFORM_DOMAIN}`.
PLATFORM_DOMAIN = env("PLATFORM_DOMAIN", default="localhost:8000")
PLATFORM_HOST = PLATFORM_DOMAIN.split(":")[0]
PLATFORM_SCHEME = env("PLATFORM_SCHEME", default="https" if IS_PRODUCTION else "http")
ALLOWED_HOSTS = [PLATFORM_HOST, f".{PLATFORM_HOST}", "127.0.0.1", *env.list("EXTRA_ALLOWED_HOSTS", default=[])]
CSRF_TRUSTED_ORIGINS = [
    f"{PLATFORM_SCHEME}://{PLATFORM_DOMAIN}",
    f"{PLATFORM_SCHEME}://*.{PLATFORM_DOMAIN}",
]

SHARED_APPS = [
    "django_tenants",
    "tenants",
    "tenants.portability",
    "billing",
    "whatsapp.channel",
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.admin",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "csp",
    "console",
]
TENANT_APPS = [
    "django.contrib.contenttypes",
    "tenants.activity",
    "crm",
    "whatsapp",
    "whatsapp.broadcasts",
]
INSTALLED_APPS = SHARED_APPS + [app for app in TENANT_APPS if app not in SHARED_APPS]

TENANT_MODEL = "tenants.Shop"
TENANT_DOMAIN_MODEL = "tenants.Domain"
PUBLIC_SCHEMA_URLCONF = "config.urls_public"
ROOT_URLCONF = "config.urls_shop"
DEFAULT_NOT_FOUND_TENANT_VIEW = "tenants.views.pages.unknown_shop"
# Ready-made shop schemas kept for signup (see tenants/provisioning.py).
SHOP_POOL_SIZE = env.int("SHOP_POOL_SIZE", default=3)
# Days between an owner's deletion request and the drop of the shop's schema (cancellable until then).
SHOP_DELETION_GRACE_DAYS = env.int("SHOP_DELETION_GRACE_DAYS", default=14)
TENANT_MULTIPROCESSING_MAX_PROCESSES = env.int("MIGRATE_PARALLEL", default=2)
# migrate_schemas skips shop schemas with nothing to apply (one query), and migrates the rest in parallel.
GET_EXECUTOR_FUNCTION = "tenants.migration_executor.get_executor"

MIDDLEWARE = [
    "config.metrics.RequestLatencyMiddleware",
    "config.observability.RequestIdMiddleware",
    "csp.middleware.CSPMiddleware",
    "tenants.middleware.ShopLookupMiddleware",  # django-tenants' TenantMainMiddleware, probes outlast PostgreSQL
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "tenants.middleware.ShopAccessMiddleware",
    "tenants.audit.AuditRequestMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [ROOT_DIR / "platform" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

WSGI_APPLICATION = "config.wsgi.application"
# WhatsApp webhooks may carry up to 3 MB.
DATA_UPLOAD_MAX_MEMORY_SIZE = 3 * 1024 * 1024

DATABASES = {"default": env.db("DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/warung")}
DATABASES["default"]["ENGINE"] = "django_tenants.postgresql_backend"
# Finite connection lifetime: each backend caches the catalog of every schema it touched.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DATABASE_ROUTERS = ("django_tenants.routers.TenantSyncRouter",)
# Issue `SET search_path` once per schema switch rather than before every query (it doubled the
# statements of webhook processing). Safe since django-tenants forgets the cached path on rollback
# and savepoint rollback (issue #1262); tests/platform/test_search_path.py proves that case.
TENANT_LIMIT_SET_CALLS = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env("REDIS_URL", default="redis://127.0.0.1:6379/0")
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_FUNCTION": "django_tenants.cache.make_key",
        "REVERSE_KEY_FUNCTION": "django_tenants.cache.reverse_key",
    }
}

AUTH_USER_MODEL = "tenants.User"
AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"]
PASSWORD_HASHERS = [
    "tenants.hashers.Argon2idOwaspHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
PASSWORD_RESET_TIMEOUT = 60 * 60 * 3
INVITATION_VALID_DAYS = 7

# Sessions are host-only cookies: a session on one shop's subdomain is never sent to another.
SESSION_COOKIE_DOMAIN = None
SESSION_COOKIE_AGE = 60 * 60 * 24 * 14
SESSION_COOKIE_SECURE = IS_PRODUCTION
CSRF_COOKIE_SECURE = IS_PRODUCTION
SESSION_COOKIE_HTTPONLY = True
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=IS_PRODUCTION)
SECURE_HSTS_SECONDS = 60 * 60 * 24 * 365 if IS_PRODUCTION else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = IS_PRODUCTION
SECURE_HSTS_PRELOAD = IS_PRODUCTION
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# Content-Security-Policy (django-csp) on every response: only our own scripts, styles and API; the SPA's
# inlined config and the API docs page's inline script and style carry the request's nonce.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, NONCE],
        "img-src": [SELF, "data:", "blob:"],
        "font-src": [SELF, "data:"],
        "connect-src": [SELF],
        "media-src": [SELF, "blob:"],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

LANGUAGE_CODE = "id"
LANGUAGES = [("id", "Bahasa Indonesia"), ("en", "English")]
LOCALE_PATHS = [ROOT_DIR / "locale"]
TIME_ZONE = "UTC"
SHOP_DEFAULT_TIME_ZONE = "Asia/Jakarta"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = ROOT_DIR / "var" / "staticfiles"
FRONTEND_DIST = ROOT_DIR / "frontend" / "dist"
STATICFILES_DIRS = [FRONTEND_DIST] if FRONTEND_DIST.exists() else []
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = DEBUG
# Files the platform keeps (shop exports); the web and worker processes must share it.
MEDIA_ROOT = env("MEDIA_ROOT", default=str(ROOT_DIR / "var" / "media"))
# A shop export's file is kept this long; a download link works this long after it was handed out.
SHOP_EXPORT_KEEP_HOURS = env.int("SHOP_EXPORT_KEEP_HOURS", default=48)
SHOP_EXPORT_LINK_MINUTES = env.int("SHOP_EXPORT_LINK_MINUTES", default=15)

EMAIL_BACKEND = env(
    "EMAIL_BACKEND",
    default="django.core.mail.backends.smtp.EmailBackend"
    if IS_PRODUCTION
    else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_HOST = env("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=587)
EMAIL_HOST_USER = env("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=True)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Warung CRM <no-reply@warung.local>")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first: its WWW-Authenticate header turns "not logged in" into a proper 401.
        "tenants.authentication.ApiTokenAuthentication",
        "tenants.authentication.ShopSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["tenants.permissions.IsShopMember"],
    "DEFAULT_PARSER_CLASSES": [
        "tenants.parsers.JSONObjectParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_THROTTLE_RATES": {
        "login": env("LOGIN_THROTTLE_RATE", default="10/min"),
        "login_ip": env("LOGIN_IP_THROTTLE_RATE", default="60/min"),
        "password_reset": env("PASSWORD_RESET_THROTTLE_RATE", default="5/hour"),
        "signup": env("SIGNUP_THROTTLE_RATE", default="30/hour"),
    },
    "EXCEPTION_HANDLER": "tenants.api_errors.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Warung CRM API",
    "DESCRIPTION": "The API behind the Warung CRM dashboard, also open to integrations with a shop API token.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    # Swagger UI's assets come from the package, not a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# Celery: tenant-aware through tenant-schemas-celery (see config/celery.py).
# Kombu spells a Unix socket `redis+socket://`, redis-py `unix://`.
CELERY_BROKER_URL = (
    "redis+socket://" + REDIS_URL.removeprefix("unix://") if REDIS_URL.startswith("unix://") else REDIS_URL
)
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
# Celery's Django fixup closes the database connection around every task unless told to reuse it: a new
# PostgreSQL session per task (dozens a second) is the single largest cost of short tasks.
CELERY_DB_REUSE_MAX = env.int("CELERY_DB_REUSE_MAX", default=200)
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 60 * 60}
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_TENANT_CACHE_SECONDS = 30
CELERY_TASK_ALWAYS_EAGER = False
CELERY_BEAT_SCHEDULE = {
    "refill-shop-pool": {"task": "tenants.tasks.refill_shop_pool", "schedule": 60.0},
    "delete-due-shops": {"task": "tenants.tasks.delete_due_shops", "schedule": 3600.0},
    "requeue-webhook-intake": {"task": "whatsapp.tasks.requeue_stale_intake", "schedule": 30.0},
    # 02:00 in Jakarta: one dispatcher fans the RFM refresh out over the shops in chunks.
    "refresh-rfm-nightly": {"task": "crm.tasks.refresh_rfm_all_shops", "schedule": crontab(hour=19, minute=0)},
    "report-usage-to-stripe": {"task": "billing.tasks.report_usage_to_stripe", "schedule": crontab(minute=15)},
    "release-stale-reservations": {"task": "billing.tasks.release_stale_reservations", "schedule": 3600.0},
    "sweep-broadcasts": {"task": "whatsapp.broadcasts.tasks.sweep_broadcasts", "schedule": 5.0},
    "rediscover-broadcasts": {"task": "whatsapp.broadcasts.tasks.rediscover_broadcasts", "schedule": 600.0},
    "expire-shop-exports": {"task": "tenants.portability.tasks.expire_shop_exports", "schedule": 3600.0},
}
CELERY_TASK_ROUTES = {"whatsapp.broadcasts.tasks.send_broadcast": {"queue": "broadcasts"}}

# Broadcasts: senders per broadcast (they share the number's limit), how long a claimed recipient stays
# leased, how long an in-doubt call waits for its status webhooks before it is sent again, and how long
# one send task runs before it hands over.
BROADCAST_SENDERS = env.int("BROADCAST_SENDERS", default=2)
BROADCAST_LEASE_SECONDS = env.int("BROADCAST_LEASE_SECONDS", default=30)
BROADCAST_RECONCILE_GRACE_SECONDS = env.int("BROADCAST_RECONCILE_GRACE_SECONDS", default=60)
BROADCAST_SLICE_SECONDS = env.int("BROADCAST_SLICE_SECONDS", default=300)
BROADCAST_CALL_TIMEOUT_SECONDS = env.float("BROADCAST_CALL_TIMEOUT_SECONDS", default=10.0)

# WhatsApp Cloud API (Graph API); development and tests point it at the simulator.
WHATSAPP_GRAPH_BASE_URL = env("WHATSAPP_GRAPH_BASE_URL", default="http://127.0.0.1:8010")
WHATSAPP_GRAPH_VERSION = env("WHATSAPP_GRAPH_VERSION", default="v25.0")
WHATSAPP_DEFAULT_MPS = env.int("WHATSAPP_DEFAULT_MPS", default=80)

# Stripe through the official SDK; development and tests point it at billing/stripe_fake.
STRIPE_SECRET_KEY = env("STRIPE_SECRET_KEY", default="sk_test_warung_local")
STRIPE_API_BASE = env(
    "STRIPE_API_BASE", default="https://api.stripe.com" if IS_PRODUCTION else "http://127.0.0.1:12111"
)
STRIPE_WEBHOOK_SECRET = env("STRIPE_WEBHOOK_SECRET", default="whsec_warung_local")
STRIPE_METER_EVENT_NAME = env("STRIPE_METER_EVENT_NAME", default="whatsapp_usage")
BILLING_PAST_DUE_GRACE_DAYS = env.int("BILLING_PAST_DUE_GRACE_DAYS", default=7)

SENTRY_DSN = env("SENTRY_DSN", default="")
# Prometheus scrapes /metrics on the platform domain with `Authorization: Bearer <METRICS_TOKEN>`; without a
# token only signed-in operators (console staff) can read it.
METRICS_TOKEN = env("METRICS_TOKEN", default="")
LOG_LEVEL = env("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_context": {"()": "config.observability.RequestContextFilter"},
    },
    "formatters": {
        "json": {
            "()": "config.observability.RedactingJsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s %(shop)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        }
    },
    "handlers": {
        # The formatter masks phone numbers and secrets in the whole line (config/redaction.py).
        "console": {"class": "logging.StreamHandler", "formatter": "json", "filters": ["request_context"]}
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    # Django's own plain-text console handler (DEBUG only) would print each line again, unredacted.
    "loggers": {
        "django": {"handlers": [], "propagate": True},
        "django.db.backends": {"level": "WARNING"},
        # httpx logs every Graph API call at INFO (a line per message sent); failures are logged by our code.
        "httpx": {"level": "WARNING"},
    },
}
