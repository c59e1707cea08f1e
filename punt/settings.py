"""PUNT settings, read from the environment (see the README's configuration table)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONCE as CSP_NONCE
from csp.constants import NONE as CSP_NONE
from csp.constants import SELF as CSP_SELF
from csp.constants import UNSAFE_INLINE as CSP_UNSAFE_INLINE
from django.core.exceptions import ImproperlyConfigured

from punt.env import envbool, envchoice, envint, envlist, envstr

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = envbool("DEBUG", False)
TESTING = envbool("PUNT_TESTING", False)

SECRET_KEY = envstr("SECRET_KEY")
if not SECRET_KEY:
    if not (DEBUG or TESTING):
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set SECRET_KEY in the environment "
            "(or DEBUG=1 for local development, which uses an insecure development key)."
        )
    SECRET_KEY = "django-insecure-development-key-only-for-debug-mode-0123456789abcdef"

ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"] if DEBUG or TESTING else [])
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS", [])
SITE_URL = (envstr("SITE_URL", "http://127.0.0.1:8000") or "").rstrip("/")

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_simplejwt",
    "rest_framework_simplejwt.token_blacklist",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "django_tasks",
    "django_tasks_db",
    "csp",
    # Accounts a company can adopt (issue 23): e-mail verification, GitHub/GitLab/Google/OpenID
    # Connect sign-in and two-factor (TOTP, recovery codes, WebAuthn) for the web app. The API
    # keeps its own JWT and API-key authentication (accounts.authentication).
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.github",
    "allauth.socialaccount.providers.gitlab",
    "allauth.socialaccount.providers.google",
    "allauth.socialaccount.providers.openid_connect",
    "allauth.mfa",
    "punt",
    "accounts",
    "audit",
    "projects",
    "tickets",
    "chat",
    "notifications",
    "webhooks",
    "imports",
    "insights",
    "dialects",
    "web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # After WhiteNoise (static files are not routes), before the rest so latency covers them.
    "punt.ops.metrics.HttpMetricsMiddleware",
    # Gzips whole HTML responses (punt/compression.py: never SSE or file streams). Above the
    # rest so it compresses what they return; below the metrics so latency includes it.
    "punt.compression.PageGZipMiddleware",
    # Django's, plus seed 000's cookie name (next-auth.session-token) on the PUNT dialect's paths.
    "punt.api.sessions.PuntSessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Needs the user and messages; sends whoever the site requires two-factor of to set it up.
    "web.middleware.TwoFactorPolicyMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Inside CSPMiddleware: adds the sign-in providers' origins to form-action on sign-in pages.
    "accounts.signin.SignInFormActionMiddleware",
    "punt.api.ratelimit.RateLimitHeadersMiddleware",
    "punt.api.errors.ApiErrorMiddleware",
]

# Benchmarks only: report the number of SQL queries of each request in a header.
PUNT_QUERY_COUNT_HEADER = envbool("PUNT_QUERY_COUNT_HEADER", False)
if PUNT_QUERY_COUNT_HEADER:
    MIDDLEWARE.insert(0, "punt.api.querycount.QueryCountMiddleware")


ROOT_URLCONF = "punt.urls"
ASGI_APPLICATION = "punt.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "web.context_processors.inbox",
            ],
        },
    },
]

DATABASES = {"default": dj_database_url.parse(envstr("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
SQLITE = DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3"
# Opening a SQLite connection costs ~0.6 ms (a third of a no-op request): keep it, one per sync
# thread. On PostgreSQL, connections come from a pool (DATABASE_POOL below) and CONN_MAX_AGE stays 0
# (Django returns the connection to the pool at the end of each request); with DATABASE_POOL=0 a
# connection is opened per request unless DATABASE_CONN_MAX_AGE keeps it.
DATABASES["default"]["CONN_MAX_AGE"] = envint("DATABASE_CONN_MAX_AGE", 60 if SQLITE else 0, minimum=0)
if envstr("PUNT_TEST_DB_NAME"):
    # Lets several test runs share one PostgreSQL server without clobbering each other.
    DATABASES["default"]["TEST"] = {"NAME": envstr("PUNT_TEST_DB_NAME")}
# Threads that run sync views under daphne (punt/asgi_handler.py); 0 = Django's own handler (a
# thread per request). SQLite has one writer and Python one GIL: threads running at once only
# fight over them (bench/README.md: 4 threads cost a move 70% more CPU and put its p99 at 1 s,
# not 110 ms), so requests queue on the first thread and spill to the second only while a view
# has run for PUNT_SYNC_SPILL_MS. PostgreSQL requests wait on the network: they spread at once.
PUNT_SYNC_THREADS = envint("PUNT_SYNC_THREADS", 2 if SQLITE else 4, minimum=0)
PUNT_SYNC_SPILL_MS = envint("PUNT_SYNC_SPILL_MS", 200 if SQLITE else 0, minimum=0)
# A statement running longer is stopped and its request answers 503 (PostgreSQL's
# statement_timeout; on SQLite a progress handler interrupts it): one slow query cannot hold a
# thread. Backups, restores, exports and migrations get the long one (punt.db.long_statements).
# 0 = no limit.
PUNT_STATEMENT_TIMEOUT_MS = envint("PUNT_STATEMENT_TIMEOUT_MS", 5000, minimum=0)
PUNT_LONG_STATEMENT_TIMEOUT_MS = envint("PUNT_LONG_STATEMENT_TIMEOUT_MS", 30 * 60 * 1000, minimum=0)
# A view running longer than this is stuck: its thread gets no new request while another can take it.
PUNT_SYNC_STUCK_MS = envint("PUNT_SYNC_STUCK_MS", 1000, minimum=0)
if not SQLITE:
    _options = DATABASES["default"].setdefault("OPTIONS", {})
    _options["options"] = f"{_options.get('options', '')} -c statement_timeout={PUNT_STATEMENT_TIMEOUT_MS}".strip()
# A connection kept past its request (DATABASE_CONN_MAX_AGE, or idle in the pool) may have died
# with a PostgreSQL restart: it is checked before a request reuses it (Django's health check; the
# pool's check_connection, one empty round trip), and replaced instead of failing that request.
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# PostgreSQL: Django's connection pool (psycopg_pool), on by default. Opening a connection per
# request (a new server process, authentication, settings) cost ~2.8 ms of CPU on a no-op request,
# more than the request itself (bench/README.md). Connections are held by the PUNT_SYNC_THREADS
# threads that run sync views, by the one thread of channels' database_sync_to_async
# (WebSocket/SSE authentication and subscriptions) and, briefly, by management code: the pool
# keeps that many open (DATABASE_POOL_MIN_SIZE, default threads + 1) and opens up to
# DATABASE_POOL_MAX_SIZE (default threads + 4, or 12 with PUNT_SYNC_THREADS=0, Django's thread per
# request) under a burst; a thread finding none free waits DATABASE_POOL_TIMEOUT seconds, then its
# request fails. Each process (daphne, task worker) has its own pool: size max_connections for
# processes x max size. The pool needs CONN_MAX_AGE 0; DATABASE_POOL=0 turns it off.
DATABASE_POOL = not SQLITE and envbool("DATABASE_POOL", DATABASES["default"]["CONN_MAX_AGE"] == 0)
if DATABASE_POOL:
    if DATABASES["default"]["CONN_MAX_AGE"]:
        raise ImproperlyConfigured("DATABASE_POOL=1 needs DATABASE_CONN_MAX_AGE=0: pooled connections are not kept")
    _pool_min = envint("DATABASE_POOL_MIN_SIZE", (PUNT_SYNC_THREADS or 4) + 1, minimum=1)
    _pool_max = envint("DATABASE_POOL_MAX_SIZE", max(_pool_min, PUNT_SYNC_THREADS + 4 if PUNT_SYNC_THREADS else 12))
    if _pool_max < _pool_min:
        raise ImproperlyConfigured("DATABASE_POOL_MAX_SIZE must be at least DATABASE_POOL_MIN_SIZE")
    # Django's backend with one change: a restart's dead connections are replaced at once
    # (punt/postgresql/base.py), not after psycopg_pool's 1 s, 2 s, 4 s... backoff.
    DATABASES["default"]["ENGINE"] = "punt.postgresql"
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": _pool_min,
        "max_size": _pool_max,
        "timeout": envint("DATABASE_POOL_TIMEOUT", 10, minimum=1),
    }
if SQLITE:
    # WAL lets readers run while a writer holds the lock; the timeout makes concurrent
    # writers queue instead of failing with "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }

REDIS_URL = envstr("REDIS_URL") or ""
if REDIS_URL:
    import redis

    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                # redis-py 8 defaults to a 5 s socket timeout, the same as channels-redis'
                # 5 s blocking read (BZPOPMIN): an idle consumer's read then races the
                # timeout and the socket dies every few seconds. Reads get more room.
                # redis-py 8 also caps a pool at 100 connections and fails the 101st command at
                # once ("Too many connections"): a burst of sockets joining their groups took
                # down 30 of 1,000 with 1011. Each in-flight layer command holds one.
                "hosts": [
                    {
                        "address": REDIS_URL,
                        "socket_timeout": 15,
                        # Short: while Redis is unreachable a publish or a join waits this long.
                        "socket_connect_timeout": 1,
                        # After Redis restarts, each pooled connection fails its next command:
                        # retried once on a new connection instead of dropping that event.
                        "retry_on_error": [redis.exceptions.ConnectionError],
                        "max_connections": envint("REDIS_MAX_CONNECTIONS", 1000, minimum=10),
                    }
                ],
                "prefix": envstr("REDIS_PREFIX", "punt") or "punt",
            },
        }
    }
    CACHES = {
        "default": {
            "BACKEND": "punt.cache.SharedRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": envstr("REDIS_PREFIX", "punt"),
            # While Redis is unreachable the cache serves from process memory (punt/cache.py); a
            # black-holed Redis then costs one request a second this long, not every request.
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 1},
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "punt.realtime.layers.InMemoryChannelLayer"}}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "punt"}}
# What the task worker tells the web processes while it works (an import's progress: imports.services).
# With Redis that is the shared cache; without it `make run` still runs the worker as a process of
# its own, so the two share files (PUNT_PROGRESS_DIR, by default `.progress/` in the checkout).
if REDIS_URL or TESTING:
    CACHES["progress"] = dict(CACHES["default"])
else:
    CACHES["progress"] = {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": str(Path(envstr("PUNT_PROGRESS_DIR") or BASE_DIR / ".progress")),
    }

AUTH_USER_MODEL = "accounts.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]

# Two-factor (issue 23, django-allauth's mfa): an authenticator app (TOTP), recovery codes and
# WebAuthn security keys / passkeys, managed from the settings page and asked for after the
# password at sign-in (web: allauth's login stage; API: accounts.services.two_factor).
MFA_ADAPTER = "accounts.mfa_adapter.PuntMFAAdapter"
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes", "webauthn"]
# Wrong codes count against the account's budget, shared with the API's second step.
MFA_FORMS = {
    "authenticate": "accounts.forms.TwoFactorCodeForm",
    "reauthenticate": "accounts.forms.TwoFactorReauthenticateForm",
}
# Passkey-only sign-in needs its button on the sign-in page, which does not have it yet: a key
# registered as a passkey still works as a second factor.
MFA_PASSKEY_LOGIN_ENABLED = envbool("MFA_PASSKEY_LOGIN_ENABLED", False)
# WebAuthn refuses plain-http origins; development servers and the tests use them.
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = DEBUG or TESTING
# One step either side of now: phone clocks drift, and a code is still accepted only once.
MFA_TOTP_TOLERANCE = 1

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(envstr("STATIC_ROOT") or BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG or TESTING
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
MEDIA_ROOT = Path(envstr("MEDIA_ROOT") or BASE_DIR / "media")
MEDIA_URL = "media/"

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

EMAIL_BACKEND = envstr("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = envstr("EMAIL_HOST", "localhost")
EMAIL_PORT = envint("EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = envstr("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = envstr("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = envbool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = envstr("DEFAULT_FROM_EMAIL", "PUNT <punt@localhost>")
# Notification e-mails (notifications/emails.py): a direct message still unread this many
# minutes after it was sent goes out by e-mail. SITE_URL makes the links in them absolute.
PUNT_DM_EMAIL_DELAY_MINUTES = envint("PUNT_DM_EMAIL_DELAY_MINUTES", 15, minimum=0)

# Security: strict by default outside DEBUG, so `check --deploy` is clean in production.
if not DEBUG:
    SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", not TESTING)
    SESSION_COOKIE_SECURE = envbool("SESSION_COOKIE_SECURE", not TESTING)
    CSRF_COOKIE_SECURE = envbool("CSRF_COOKIE_SECURE", not TESTING)
    SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", 31536000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = envbool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = envbool("SECURE_HSTS_PRELOAD", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Behind a proxy that forwards the original host in X-Forwarded-Host (and may rewrite Host):
# build absolute URLs and check ALLOWED_HOSTS against it. deploy/nginx passes Host through, so
# it is not needed there; never turn it on without a proxy that sets the header itself.
USE_X_FORWARDED_HOST = envbool("USE_X_FORWARDED_HOST", False)
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# Markdown images from other sites (tracking pixels): "block" renders them as links, "allow" shows them.
PUNT_MARKDOWN_EXTERNAL_IMAGES = envchoice("PUNT_MARKDOWN_EXTERNAL_IMAGES", "block", ("block", "allow"))
# Content-Security-Policy on every response (django-csp): scripts come only from our own files
# (or carry the response's nonce), so markup that slips into a page cannot run. Styles keep
# 'unsafe-inline' for the templates' style attributes (colours from the data among them).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [CSP_SELF],
        "script-src": [CSP_SELF, CSP_NONCE],
        "style-src": [CSP_SELF, CSP_UNSAFE_INLINE],
        "img-src": [CSP_SELF, "data:", "blob:", *(["https:"] if PUNT_MARKDOWN_EXTERNAL_IMAGES == "allow" else [])],
        "font-src": [CSP_SELF, "data:"],
        "connect-src": [CSP_SELF],
        "object-src": [CSP_NONE],
        "base-uri": [CSP_SELF],
        "form-action": [CSP_SELF],
        "frame-ancestors": [CSP_NONE],
    }
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.ApiKeyAuthentication",
        "accounts.authentication.BearerAuthentication",
        "punt.api.authentication.CsrfSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "accounts.permissions.ApiKeyScope",
    ],
    "DEFAULT_RENDERER_CLASSES": ["punt.api.renderers.FastJSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "punt.api.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_SCHEMA_CLASS": "punt.api.schema.PuntAutoSchema",
    "EXCEPTION_HANDLER": "punt.api.errors.exception_handler",
    "DEFAULT_METADATA_CLASS": "punt.api.metadata.Metadata",
    "DEFAULT_THROTTLE_CLASSES": ["punt.api.ratelimit.UserApiThrottle"],
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=15),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=7),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": True,
    "AUTH_HEADER_TYPES": ("Bearer",),
    "SIGNING_KEY": SECRET_KEY,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "PUNT API",
    "DESCRIPTION": "PUNT: Kanban boards, tickets, sprints, chat and webhooks.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_SETTINGS": {"persistAuthorization": True},
    # Project and organization roles are both fields named "role" with different choices.
    "ENUM_NAME_OVERRIDES": {
        "ProjectRoleEnum": "projects.models.Membership.Role",
        "OrganizationRoleEnum": "projects.models.OrganizationMembership.Role",
        # Plain value lists of fields documented with punt.api.schema.documented().
        "ColumnCategoryValuesEnum": "projects.models.COLUMN_CATEGORIES",
        "TicketTypeEnum": "tickets.models.Ticket.Type",
        "TicketPriorityEnum": "tickets.models.Ticket.Priority",
        "TicketTypeValuesEnum": "tickets.models.TICKET_TYPES",
        "TicketPriorityValuesEnum": "tickets.models.TICKET_PRIORITIES",
        "PuntTicketTypeEnum": "dialects.punt.serializers.TYPE_INPUT",
        "PuntTicketPriorityEnum": "dialects.punt.serializers.PRIORITY_INPUT",
        "PuntMemberRoleEnum": "dialects.punt.serializers.MEMBER_ROLES",
        "TicketRelationKindEnum": "tickets.serializers.RELATION_KINDS",
        "CustomFieldTypeEnum": "tickets.models.CustomField.Type",
        "SprintStatusEnum": "projects.models.Sprint.Status",
        "NotificationDeliveryEnum": "notifications.models.NotificationPreference.Delivery",
        "InvitationKindEnum": "projects.serializers.INVITATION_KINDS",
        "InvitationStatusEnum": "projects.serializers.INVITATION_STATUSES",
        "InvitableProjectRoleEnum": "projects.serializers.INVITABLE_PROJECT_ROLES",
    },
}

# PUNT's own settings.
PUNT_REGISTRATION_OPEN = envbool("PUNT_REGISTRATION_OPEN", True)
# Defaults of the sign-up system settings until an admin saves them (accounts.models.SystemSettings).
PUNT_PASSWORD_SIGNUP = envbool("PUNT_PASSWORD_SIGNUP", True)
PUNT_SIGNUP_EMAIL_DOMAINS = [d.lower().lstrip("@") for d in envlist("PUNT_SIGNUP_EMAIL_DOMAINS", [])]
PUNT_EMAIL_VERIFICATION = envchoice("PUNT_EMAIL_VERIFICATION", "none", ("none", "optional", "mandatory"))
PUNT_API_RATE_PER_MINUTE = envint("PUNT_API_RATE_PER_MINUTE", 600, minimum=1)
PUNT_PASSWORD_RESET_TIMEOUT_MINUTES = envint("PUNT_PASSWORD_RESET_TIMEOUT_MINUTES", 60, minimum=1)
# A refresh token presented again this soon after its rotation (a client retrying a lost
# answer) gets the same new pair again; later, it revokes every token rotated from the same
# sign-in (accounts.services.token_pair_refresh). 0: every reuse revokes.
PUNT_REFRESH_REUSE_GRACE_SECONDS = envint("PUNT_REFRESH_REUSE_GRACE_SECONDS", 30, minimum=0)
PUNT_MAX_UPLOAD_BYTES = envint("PUNT_MAX_UPLOAD_BYTES", 10 * 1024 * 1024, minimum=1)
# Decoding costs up to 4 bytes a pixel whatever the file size (25 Mpx: 100 MB), one image at a
# time per process; an upload waits at most PUNT_IMAGE_WAIT_SECONDS for its turn, then gets a 503.
PUNT_MAX_IMAGE_PIXELS = envint("PUNT_MAX_IMAGE_PIXELS", 25_000_000, minimum=1)
PUNT_IMAGE_WAIT_SECONDS = envint("PUNT_IMAGE_WAIT_SECONDS", 10, minimum=1)
# Proxies (load balancers) in front of PUNT that append to X-Forwarded-For; 0 = trust REMOTE_ADDR.
PUNT_TRUSTED_PROXY_COUNT = envint("PUNT_TRUSTED_PROXY_COUNT", 0, minimum=0)
# Audit log entries older than this are removed by `manage.py audit_prune`; 0 keeps them forever.
PUNT_AUDIT_RETENTION_DAYS = envint("PUNT_AUDIT_RETENTION_DAYS", 365, minimum=0)
PASSWORD_RESET_TIMEOUT = PUNT_PASSWORD_RESET_TIMEOUT_MINUTES * 60

# Sign-in (django-allauth, issue 23). The web app signs in with sessions through allauth's
# flows (web.views.auth), so its login stages apply: e-mail verification, two-factor. The API's
# JWT and API keys (accounts.authentication, /api/v1/auth/login) do not go through allauth.
# What varies at run time (sign-up domains, password sign-up, e-mail verification) is read from
# the system settings by the adapters (accounts.allauth_adapters), not from these constants.
ACCOUNT_ADAPTER = "accounts.allauth_adapters.AccountAdapter"
SOCIALACCOUNT_ADAPTER = "accounts.allauth_adapters.SocialAccountAdapter"
ACCOUNT_LOGIN_METHODS = {"username"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "username*", "password1*"]
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_PREVENT_ENUMERATION = True
# The default before the adapters read the site's setting: what a sign-in is checked against
# when nothing else says (accounts.allauth_adapters.EmailVerificationStage decides per login).
ACCOUNT_EMAIL_VERIFICATION = "optional"
ACCOUNT_CONFIRM_EMAIL_ON_GET = True
# Confirming in the browser that signed up finishes that sign-in and goes where it was going
# (an invitation's page, say); from another browser the link only confirms, then asks to sign in.
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_EMAIL_CONFIRMATION_EXPIRE_DAYS = 3
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[PUNT] "
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https" if SITE_URL.startswith("https:") else "http"
ACCOUNT_LOGOUT_REDIRECT_URL = "/login/"
ACCOUNT_USERNAME_MAX_LENGTH = 39
SOCIALACCOUNT_AUTO_SIGNUP = True
# A provider's address links to the account that has it, and only when the provider says it is
# verified (allauth's is_email_verified: GitHub's /user/emails, Google's and OIDC's
# email_verified, GitLab's confirmed_at). An unverified address never links or takes over.
SOCIALACCOUNT_EMAIL_AUTHENTICATION = True
SOCIALACCOUNT_EMAIL_AUTHENTICATION_AUTO_CONNECT = True
SOCIALACCOUNT_EMAIL_REQUIRED = True
SOCIALACCOUNT_QUERY_EMAIL = True
SOCIALACCOUNT_STORE_TOKENS = False
SOCIALACCOUNT_LOGIN_ON_GET = False


def _provider_app(prefix: str, **extra: object) -> list[dict[str, object]]:
    """An app from PUNT_<prefix>_CLIENT_ID and PUNT_<prefix>_CLIENT_SECRET (none if neither is set)."""
    client_id = envstr(f"PUNT_{prefix}_CLIENT_ID") or ""
    secret = envstr(f"PUNT_{prefix}_CLIENT_SECRET") or ""
    if not client_id and not secret:
        return []
    if not (client_id and secret):
        raise ImproperlyConfigured(f"Set both PUNT_{prefix}_CLIENT_ID and PUNT_{prefix}_CLIENT_SECRET, or neither.")
    return [{"client_id": client_id, "secret": secret, **extra}]


_gitlab_url = (envstr("PUNT_GITLAB_URL") or "https://gitlab.com").rstrip("/")
_oidc_server_url = (envstr("PUNT_OIDC_SERVER_URL") or "").rstrip("/")
_oidc_apps = _provider_app(
    "OIDC",
    provider_id=envstr("PUNT_OIDC_ID") or "oidc",
    name=envstr("PUNT_OIDC_NAME") or "OpenID Connect",
    settings={"server_url": _oidc_server_url},
)
if _oidc_apps and not _oidc_server_url.startswith(("https://", "http://")):
    raise ImproperlyConfigured("PUNT_OIDC_SERVER_URL must be the issuer's URL, e.g. https://login.example.com")
if not _gitlab_url.startswith(("https://", "http://")):
    raise ImproperlyConfigured("PUNT_GITLAB_URL must be a URL, e.g. https://gitlab.example.com")
# Providers set up in the environment; site admins add more (or these) as Social applications
# in the Django admin. Both kinds show as "Sign in with ..." buttons on the sign-in page.
SOCIALACCOUNT_PROVIDERS: dict[str, dict[str, object]] = {
    "github": {
        "SCOPE": ["read:user", "user:email"],
        "APPS": _provider_app("GITHUB"),
    },
    "gitlab": {
        "SCOPE": ["read_user"],
        "APPS": _provider_app(
            "GITLAB", name=envstr("PUNT_GITLAB_NAME") or "GitLab", settings={"gitlab_url": _gitlab_url}
        ),
    },
    "google": {
        "SCOPE": ["profile", "email"],
        "AUTH_PARAMS": {"access_type": "online"},
        "APPS": _provider_app("GOOGLE"),
    },
    "openid_connect": {"APPS": _oidc_apps},
}

# Background work (outgoing webhooks) runs on Django's Tasks API; the database backend
# needs no extra service: `manage.py db_worker` runs the queue beside daphne.
TASKS = {
    "default": {
        "BACKEND": envstr("PUNT_TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
    }
}

# Integrations (webhooks app). Outgoing deliveries refuse loopback, private and link-local
# addresses unless PUNT_WEBHOOKS_ALLOW_PRIVATE is set (a hook to a service on the same LAN).
PUNT_WEBHOOKS_ALLOW_PRIVATE = envbool("PUNT_WEBHOOKS_ALLOW_PRIVATE", False)
PUNT_WEBHOOKS_TIMEOUT_SECONDS = envint("PUNT_WEBHOOKS_TIMEOUT_SECONDS", 5, minimum=1)
PUNT_WEBHOOKS_MAX_ATTEMPTS = envint("PUNT_WEBHOOKS_MAX_ATTEMPTS", 5, minimum=1)
# Attempt n waits base * 4**(n-1) seconds after the previous one: 30 s, 2 min, 8 min, 32 min.
PUNT_WEBHOOKS_RETRY_BASE_SECONDS = envint("PUNT_WEBHOOKS_RETRY_BASE_SECONDS", 30, minimum=0)
PUNT_WEBHOOKS_MAX_BODY_BYTES = envint("PUNT_WEBHOOKS_MAX_BODY_BYTES", 5 * 1024 * 1024, minimum=1024)
PUNT_CHAT_WEBHOOK_MAX_BYTES = envint("PUNT_CHAT_WEBHOOK_MAX_BYTES", 64 * 1024, minimum=1024)
PUNT_CHAT_WEBHOOK_RATE_PER_MINUTE = envint("PUNT_CHAT_WEBHOOK_RATE_PER_MINUTE", 30, minimum=1)
PUNT_GIT_WEBHOOK_RATE_PER_MINUTE = envint("PUNT_GIT_WEBHOOK_RATE_PER_MINUTE", 120, minimum=1)
PUNT_IDEMPOTENCY_TTL_HOURS = envint("PUNT_IDEMPOTENCY_TTL_HOURS", 24, minimum=1)

# Metrics (punt/ops/metrics.py): with several web processes, set the environment variable
# PROMETHEUS_MULTIPROC_DIR to a writable directory, emptied at each start, so /api/v1/metrics
# merges every process. prometheus-client reads it from the environment at import, not here.

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": envstr("LOG_LEVEL", "INFO")},
    "loggers": {"django.request": {"level": "ERROR"}},
}
APPEND_SLASH = False  # API paths have no trailing slash; a redirect would turn POSTs into GETs
