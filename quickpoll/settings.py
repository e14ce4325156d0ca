"""QuickPoll settings, all read from the environment (see .env.example).

With nothing set, a fresh checkout runs on SQLite, an in-process channel layer and
a local-memory cache. DATABASE_URL switches to PostgreSQL, REDIS_URL to Redis.
"""

import hashlib
from datetime import timedelta
from pathlib import Path

import dj_database_url
import structlog
from corsheaders.defaults import default_headers as cors_default_headers
from django.core.exceptions import ImproperlyConfigured

from quickpoll.env import (
    env_bool,
    env_choice,
    env_email_url,
    env_int,
    env_list,
    env_networks,
    env_str,
    env_url,
    with_password,
)

BASE_DIR = Path(__file__).resolve().parent.parent

APP_NAME = env_str("APP_NAME", "QuickPoll")
APP_VERSION = env_str("APP_VERSION", "0.1.0")
ENVIRONMENT = env_choice("ENVIRONMENT", "development", {"development", "test", "staging", "production"})
PRODUCTION = ENVIRONMENT == "production"

# Production never runs with DEBUG, whatever DEBUG says.
DEBUG = False if PRODUCTION else env_bool("DEBUG", True)
# With DEBUG, pages still fail with QuickPoll's own 404/500 pages; true shows Django's technical ones.
DEBUG_ERROR_PAGES = DEBUG and env_bool("DEBUG_ERROR_PAGES", False)

SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if PRODUCTION:
        raise ImproperlyConfigured("SECRET_KEY must be set when ENVIRONMENT=production")
    SECRET_KEY = "insecure-development-key-do-not-use-in-production"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", [] if PRODUCTION else ["127.0.0.1", "localhost", "[::1]", "testserver"])

INSTALLED_APPS = [
    # daphne first: its runserver serves HTTP and WebSockets from one process.
    "daphne",
    "accounts.apps.QuickPollAdminConfig",  # django.contrib.admin, with rate-limited logins
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.humanize",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.forms",
    "channels",
    "corsheaders",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "csp",
    "django_structlog",
    "quickpoll",  # its one model: responses kept for Idempotency-Key retries
    "accounts",
    "polls",
    "webhooks",
    "realtime",
]

MIDDLEWARE = [
    # GET /metrics for Prometheus, before the HTTPS redirect and the ALLOWED_HOSTS check (quickpoll/metrics.py).
    "quickpoll.metrics.MetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Pages show times in the signed-in account's time zone (quickpoll/time_zones.py).
    "quickpoll.time_zones.AccountTimeZoneMiddleware",
    # After authentication: the account's language comes before the cookie and Accept-Language.
    "accounts.languages.AccountLocaleMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_structlog.middlewares.RequestMiddleware",
    "quickpoll.request_ids.RequestIdHeaderMiddleware",
    "quickpoll.ratelimits.ApiRateLimitMiddleware",
    # Before the outage middleware: its exception hook runs first, so "database down" stays a 503.
    "quickpoll.error_pages.BrandedErrorPagesMiddleware",
    "quickpoll.outages.DatabaseOutageMiddleware",
    "polls.voters.AnonymousIdMiddleware",
]

ROOT_URLCONF = "quickpoll.urls"
ASGI_APPLICATION = "quickpoll.asgi.application"

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
                "quickpoll.context_processors.site",
            ],
        },
    },
]

# Form widgets render from templates/ too (the poll form's option list).
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"

# --- Database -------------------------------------------------------------------
DATABASE_URL = env_url("DATABASE_URL", {"postgres", "postgresql", "sqlite"})
# transaction: DATABASE_URL is a pooler handing out a server connection per transaction (PgBouncer's
# pool_mode=transaction), so nothing may outlive a transaction: no server-side cursors, no prepared
# statements, no session-level SET or advisory lock (QuickPoll takes pg_advisory_xact_lock only).
DATABASE_POOLING = env_choice("DATABASE_POOLING", "session", {"session", "transaction"})
if DATABASE_URL:
    # Health checks: a restarted PostgreSQL leaves broken connections, replaced before use.
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_health_checks=True)}
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        # Under ASGI every request runs in a thread of its own, so connections kept per thread
        # (CONN_MAX_AGE) pile up; a pool shares a bounded number across all threads.
        DATABASES["default"]["OPTIONS"] = {
            "pool": {
                "min_size": env_int("DATABASE_POOL_MIN_SIZE", 2, minimum=0),
                "max_size": env_int("DATABASE_POOL_MAX_SIZE", 20, minimum=1),
                # Short: while PostgreSQL restarts, a request should get its 503 soon, not hang.
                "timeout": env_int("DATABASE_POOL_TIMEOUT", 2, minimum=1),
            },
            # Never prepare statements: behind PgBouncer's transaction pooling the next transaction
            # may run on another server connection, where the prepared name does not exist.
            "prepare_threshold": None,
        }
        # Server-side cursors (.iterator() declares one WITH HOLD outside a transaction) outlive it.
        DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = DATABASE_POOLING == "transaction"
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": BASE_DIR / "db.sqlite3",
            # SQLite serialises writers; wait for the lock instead of failing at once.
            "OPTIONS": {"timeout": 20, "transaction_mode": "IMMEDIATE"},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: cache and channel layer -----------------------------------------------
REDIS_URL = env_url("REDIS_URL", {"redis", "rediss", "unix"})
# Keys and channel names start with it, so deployments sharing one Redis stay apart.
REDIS_KEY_PREFIX = env_str("REDIS_KEY_PREFIX", "quickpoll")
if REDIS_URL:
    REDIS_URL = with_password(REDIS_URL, env_str("REDIS_PASSWORD"))
    CACHES = {
        "default": {
            "BACKEND": "quickpoll.cache.SharedRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": REDIS_KEY_PREFIX,
            # Fail fast when Redis is unreachable: the cache must never stall a vote.
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }
    # django-ratelimit's counters, in the same Redis, counted in one round trip each (quickpoll.cache).
    CACHES["ratelimit"] = {**CACHES["default"], "BACKEND": "quickpoll.cache.RateLimitCounters"}
    RATELIMIT_USE_CACHE = "ratelimit"
    # The Pub/Sub layer publishes a group message once per Redis, and each server process
    # fans it out to its own sockets; docs/realtime.md says why over the core layer.
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {
                "hosts": [{"address": REDIS_URL, "socket_connect_timeout": 2}],
                "prefix": REDIS_KEY_PREFIX,
            },
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "quickpoll"}}
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# --- Accounts ---------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["accounts.backends.UsernameOrEmailBackend"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"

# --- API --------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # First: a `Bearer qp_…` key is not a JWT, and it is checked against the view's scope (accounts.api_keys).
        "accounts.api_keys.ApiKeyAuthentication",
        "accounts.access_tokens.AccessTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticatedOrReadOnly"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "quickpoll.pagination.PagePagination",
    "EXCEPTION_HANDLER": "quickpoll.api_errors.exception_handler",
    # ?format= belongs to the export endpoint (csv or json), not to renderer selection.
    "URL_FORMAT_OVERRIDE": None,
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # The API takes JSON (multipart only where a file is uploaded: the avatar), so the schema declares one
    # body per operation, which generated clients can use. JSON nested absurdly deep is a 400, not a RecursionError.
    "DEFAULT_PARSER_CLASSES": ["quickpoll.parsers.JSONParser"],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env_int("ACCESS_TOKEN_EXPIRE_MINUTES", 30, minimum=1)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env_int("REFRESH_TOKEN_EXPIRE_DAYS", 7, minimum=1)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": True,
    "SIGNING_KEY": SECRET_KEY,
    # Access tokens carry a fingerprint of the password: changing it ends them at once.
    "CHECK_REVOKE_TOKEN": True,
}
SPECTACULAR_SETTINGS = {
    "TITLE": f"{APP_NAME} API",
    "DESCRIPTION": "Polls, votes, likes and notifications, with live results over WebSocket.",
    "VERSION": APP_VERSION,
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI and ReDoc are served from our own static files, not a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    # JavaScript, passed through as it is: deep links follow the open operation, and QuickPoll's Swagger UI plugins
    # (static/js/swagger-ui-plugins.js, loaded first) join in. The start-up script's own plugin list, which this
    # replaces, stays empty while the schema is public (SERVE_PUBLIC).
    # Tomorrow Night: the default code theme's numbers are too faint on its dark background.
    "SWAGGER_UI_SETTINGS": (
        '{"deepLinking": true, "syntaxHighlight": {"theme": "tomorrow-night"}, "plugins": window.QuickPollSwaggerPlugins}'
    ),
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Operation ids without the common /api prefix: polls_create, votes_create, users_me_retrieve.
    "SCHEMA_PATH_PREFIX": r"/api",
    # The docs' headings, in this order; each viewset names its tag (extend_schema(tags=...)).
    "TAGS": [
        {"name": "Polls", "description": "Create, change, close and find polls; their results and exports."},
        {"name": "Votes", "description": "Cast and take back votes; secret ballots and their receipts."},
        {"name": "Likes", "description": "Like and unlike polls."},
        {"name": "Decks", "description": "Polls a presenter steps through; the audience follows at the deck's join code."},
        {"name": "Invites", "description": "Invite-only polls: make, revoke and export invite links."},
        {"name": "Accounts", "description": "Sign up, log in and out (JWT), and manage your own account."},
        {"name": "API keys", "description": "Personal API keys for scripts and integrations, limited to their scopes."},
        {"name": "Users", "description": "Public profiles, and each user's polls and statistics."},
        {"name": "Notifications", "description": "What happened to your polls; read one or all."},
        {"name": "Moderation", "description": "Report a poll; moderators hold polls and void ballots."},
        {"name": "Webhooks", "description": "Your webhook endpoints, their delivery log, redelivery and test messages."},
    ],
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "quickpoll.openapi.strip_trailing_slashes",
        "quickpoll.openapi.document_idempotent_answers",
        "quickpoll.openapi.document_common_answers",
    ],
}

CORS_ALLOWED_ORIGINS = env_list("ALLOWED_ORIGINS", ["http://localhost:3000", "http://127.0.0.1:3000"])
CORS_URLS_REGEX = r"^/api/.*$"
CORS_ALLOW_HEADERS = (*cors_default_headers, "idempotency-key")
CORS_EXPOSE_HEADERS = ["Idempotent-Replayed"]
# Proxies (nginx in bin/production) whose X-Forwarded-For names the client, for the WSGI side.
FORWARDED_ALLOW_IPS = env_list("FORWARDED_ALLOW_IPS", ["127.0.0.1"])

# --- Metrics (GET /metrics, quickpoll/metrics.py) ------------------------------------------
# A scraper presents METRICS_TOKEN as a bearer token, or comes from METRICS_ALLOWED_NETWORKS; others get a 404.
METRICS_TOKEN = env_str("METRICS_TOKEN", "")
METRICS_ALLOWED_NETWORKS = env_networks("METRICS_ALLOWED_NETWORKS", ["127.0.0.0/8", "::1/128"])

# --- Limits -------------------------------------------------------------------------
# quickpoll/ratelimits.py names every limit: what it counts, where it is enforced, what a caller gets.
# RATE_LIMIT_ENABLED switches off the per-window budgets (the RATE_LIMIT_* counts).
RATE_LIMIT_ENABLED = env_bool("RATE_LIMIT_ENABLED", True)
# API requests per window per client IP (login and register have their own budget).
RATE_LIMIT_REQUESTS = env_int("RATE_LIMIT_REQUESTS", 100, minimum=1)
RATE_LIMIT_WINDOW = env_int("RATE_LIMIT_WINDOW", 60, minimum=1)
# Per IP on login and register, and per account on login, in the same window.
RATE_LIMIT_AUTH_REQUESTS = env_int("RATE_LIMIT_AUTH_REQUESTS", 10, minimum=1)
# Votes, retractions, likes and unlikes per window by one voter, whichever address they come from.
RATE_LIMIT_VOTER_REQUESTS = env_int("RATE_LIMIT_VOTER_REQUESTS", 30, minimum=1)
# Invite links opened per window per IP (a guesser's budget), and invite batches made per window per account.
RATE_LIMIT_INVITE_REQUESTS = env_int("RATE_LIMIT_INVITE_REQUESTS", 30, minimum=1)
# Join codes typed wrong per window per IP: only misses count, so a room behind one address joins freely.
RATE_LIMIT_JOIN_MISSES = env_int("RATE_LIMIT_JOIN_MISSES", 20, minimum=1)
# Downloads of one's own data per window by one account: each reads every row they ever wrote.
RATE_LIMIT_EXPORT_REQUESTS = env_int("RATE_LIMIT_EXPORT_REQUESTS", 5, minimum=1)
# /api/ requests per personal API key per window, in place of its address's RATE_LIMIT_REQUESTS.
API_KEY_RATE_LIMIT = env_int("API_KEY_RATE_LIMIT", 300, minimum=1)
# Account mails (password reset, address confirmation) one address may be sent per hour; past it, requests
# get the same answer and no mail, so a mailbox cannot be flooded and nobody learns whether it has an account.
RATE_LIMIT_MAIL_PER_ADDRESS = env_int("RATE_LIMIT_MAIL_PER_ADDRESS", 3, minimum=1)
RATELIMIT_ENABLE = RATE_LIMIT_ENABLED
# Staff and moderators without two-factor authentication are sent to turn it on before any admin page.
REQUIRE_TWO_FACTOR_FOR_STAFF = env_bool("REQUIRE_TWO_FACTOR_FOR_STAFF", False)
WEBSOCKET_HEARTBEAT_INTERVAL = env_int("WEBSOCKET_HEARTBEAT_INTERVAL", 30, minimum=1)
# Open WebSockets per server process; one more is closed with 4429.
WEBSOCKET_MAX_CONNECTIONS = env_int("WEBSOCKET_MAX_CONNECTIONS", 1000, minimum=1)
# Open WebSockets per client address (an IPv6 /64) per server process, checked first; one more gets 4429.
WEBSOCKET_MAX_CONNECTIONS_PER_ADDRESS = env_int("WEBSOCKET_MAX_CONNECTIONS_PER_ADDRESS", 20, minimum=1)
# An HTTP (WSGI) process's background threads: the broadcast loop (realtime.broadcast_loop) and the
# view-count flusher (polls.viewcounts). bin/production turns it on for its HTTP processes; off,
# tests, management commands and the development server start no thread of their own.
BACKGROUND_THREADS = env_bool("BACKGROUND_THREADS", False)
MAX_FILE_SIZE = env_int("MAX_FILE_SIZE", 5 * 1024 * 1024, minimum=1)
ALLOWED_FILE_TYPES = env_list("ALLOWED_FILE_TYPES", ["image/jpeg", "image/png", "image/gif"])
# Anonymous ballots, and as many anonymous likes, one IP may have on one poll at a time (no window;
# a retraction or an unlike frees a place).
ANONYMOUS_BALLOTS_PER_IP = env_int("ANONYMOUS_BALLOTS_PER_IP", 20, minimum=1)
# Words an open-text poll with its profanity filter on refuses (one per line, # comments); replace the file
# to suit your audience and language.
PROFANITY_WORDS_FILE = env_str("PROFANITY_WORDS_FILE", str(BASE_DIR / "polls" / "wordlists" / "profanity.txt"))
# Invites one request may make (a count or a list of addresses), and invites one poll may have in all.
INVITES_PER_REQUEST = env_int("INVITES_PER_REQUEST", 500, minimum=1)
INVITES_PER_POLL = env_int("INVITES_PER_POLL", 5000, minimum=1)

# --- Mail (accounts/mail.py; invitations) --------------------------------------------
# EMAIL_URL says where mail goes (smtp://, smtps://, console://, file://); unset, the EMAIL_BACKEND and
# EMAIL_HOST variables below are read as before, and a provider's backend (e.g. Anymail's) is named there.
# Console by default: a development server prints the mails it would send.
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
globals().update(env_email_url("EMAIL_URL") or {})
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "QuickPoll <noreply@localhost>")
# Where links in mails point (mails sent by the clock have no request to take it from).
SITE_URL = env_str("SITE_URL", "http://localhost:8000").rstrip("/")
# Seconds a password reset link and an address confirmation link stay good (they also die once used,
# and when the password changes).
PASSWORD_RESET_TIMEOUT = env_int("PASSWORD_RESET_TIMEOUT", 3600, minimum=60)
EMAIL_CONFIRMATION_TIMEOUT = env_int("EMAIL_CONFIRMATION_TIMEOUT", 3 * 24 * 3600, minimum=60)
# Only accounts whose address is confirmed may create polls (API: 403 email_not_verified).
REQUIRE_VERIFIED_EMAIL_TO_CREATE = env_bool("REQUIRE_VERIFIED_EMAIL_TO_CREATE", False)

# --- Privacy (polls/retention.py) ----------------------------------------------------
# Voters' addresses and browsers serve abuse handling only: this many days after a poll closes the
# clock truncates the addresses to their network (/24, /48) or drops them, and drops the browsers.
PERSONAL_DATA_RETENTION_DAYS = env_int("PERSONAL_DATA_RETENTION_DAYS", 30)
PERSONAL_DATA_ADDRESSES = env_choice("PERSONAL_DATA_ADDRESSES", "truncate", {"truncate", "drop"})

# --- Safe retries (quickpoll/idempotency.py) -------------------------------------------
# How long a response is kept for a retry with the same Idempotency-Key; the clock purges older ones.
IDEMPOTENCY_TTL_HOURS = env_int("IDEMPOTENCY_TTL_HOURS", 24, minimum=1)
# How long a retry waits for the first request with its key to finish before answering 409.
IDEMPOTENCY_WAIT_SECONDS = env_int("IDEMPOTENCY_WAIT_SECONDS", 10, minimum=1)

DATA_UPLOAD_MAX_MEMORY_SIZE = max(MAX_FILE_SIZE, 2_621_440)

# --- Bot defence (polls/bot_defence.py) ----------------------------------------------
# Signs the proof-of-work challenges; set it to rotate challenges without rotating SECRET_KEY.
ALTCHA_HMAC_KEY = env_str("ALTCHA_HMAC_KEY") or hashlib.sha256(f"altcha:{SECRET_KEY}".encode()).hexdigest()
# How much work a challenge asks: PBKDF2 iterations per attempt, and the highest counter to find.
ALTCHA_COST = env_int("ALTCHA_COST", 100, minimum=1)
ALTCHA_MAX_NUMBER = env_int("ALTCHA_MAX_NUMBER", 10_000, minimum=1)
# Seconds a challenge stays solvable (and its solution remembered as spent).
ALTCHA_EXPIRY = env_int("ALTCHA_EXPIRY", 600, minimum=10)
# Adaptive polls ask for a solved challenge once, within one window, one address has cast more than
# BOT_DEFENCE_ADDRESS_THRESHOLD anonymous ballots (all polls), or one poll has taken more than
# BOT_DEFENCE_POLL_THRESHOLD anonymous ballots.
BOT_DEFENCE_WINDOW = env_int("BOT_DEFENCE_WINDOW", 600, minimum=1)
BOT_DEFENCE_ADDRESS_THRESHOLD = env_int("BOT_DEFENCE_ADDRESS_THRESHOLD", 10, minimum=0)
BOT_DEFENCE_POLL_THRESHOLD = env_int("BOT_DEFENCE_POLL_THRESHOLD", 200, minimum=0)

# --- Webhooks (webhooks/delivery.py; docs/webhooks.md) -------------------------------
# Endpoints on loopback, private, link-local or metadata addresses are refused unless this is on
# (tests, and deployments whose receivers live on a private network).
WEBHOOKS_ALLOW_PRIVATE = env_bool("WEBHOOKS_ALLOW_PRIVATE", False)
WEBHOOKS_TIMEOUT_SECONDS = env_int("WEBHOOKS_TIMEOUT_SECONDS", 5, minimum=1)
# Attempts per message; the wait after a failed one doubles from WEBHOOKS_RETRY_SECONDS.
WEBHOOKS_MAX_ATTEMPTS = env_int("WEBHOOKS_MAX_ATTEMPTS", 8, minimum=1)
WEBHOOKS_RETRY_SECONDS = env_int("WEBHOOKS_RETRY_SECONDS", 30, minimum=0)
# Failed attempts in a row after which an endpoint is marked failing and its owner told.
WEBHOOKS_FAILING_AFTER = env_int("WEBHOOKS_FAILING_AFTER", 5, minimum=1)
# Days the delivery log (sent and given-up messages, their attempts) is kept.
WEBHOOKS_LOG_DAYS = env_int("WEBHOOKS_LOG_DAYS", 30, minimum=1)

# --- Internationalisation, static and media files -----------------------------------
LANGUAGE_CODE = "en"
# Each named in itself: the footer's picker shows "Deutsch" to someone who reads no English.
LANGUAGES = [("en", "English"), ("de", "Deutsch"), ("es", "Español")]
# .mo files are compiled from these by `manage.py compile_translations` (bin/bootstrap runs it).
LOCALE_PATHS = [BASE_DIR / "locale"]
# The footer picker's choice outlives the browser session (Django's default cookie does not).
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env_str("STATIC_ROOT") or BASE_DIR / "staticfiles")
# Outside production static files come straight from static/, with or without DEBUG (no collectstatic needed).
WHITENOISE_USE_FINDERS = not PRODUCTION
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT") or BASE_DIR / "media")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# --- Security -----------------------------------------------------------------------
# Our pages load scripts and styles from our own origin only, and nothing inline, so
# an injected <script> or style attribute does nothing. 'self' covers ws(s):// to us.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "font-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
CSRF_FAILURE_VIEW = "quickpoll.views.csrf_failure"
SESSION_ENGINE = "quickpoll.sessions"
if PRODUCTION:
    # TLS ends at the proxy in front of us; trust its header, and only its header.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_REDIRECT_EXEMPT = [r"^health/?$"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

# --- Logs ---------------------------------------------------------------------------
# Structured logs: every line of a request carries its request_id (new per request, and
# returned in the X-Request-ID header), so a moderator can follow one vote through them.
# JSON in production; readable lines in development. LOG_FORMAT overrides either.
LOG_FORMAT = env_choice("LOG_FORMAT", "json" if PRODUCTION else "console", {"json", "console"})
LOG_LEVEL = env_choice("LOG_LEVEL", "info", {"debug", "info", "warning", "error"}).upper()
# The client's address in each line is REMOTE_ADDR (quickpoll.request_ids), not django-structlog's own lookup.
DJANGO_STRUCTLOG_IP_LOGGING_ENABLED = False
_structlog_processors = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]
structlog.configure(
    processors=[
        *_structlog_processors,
        structlog.stdlib.PositionalArgumentsFormatter(),
        structlog.processors.StackInfoRenderer(),
        structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
    ],
    logger_factory=structlog.stdlib.LoggerFactory(),
    cache_logger_on_first_use=True,
)
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "structured": {
            "()": structlog.stdlib.ProcessorFormatter,
            "processors": [
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                structlog.processors.JSONRenderer()
                if LOG_FORMAT == "json"
                else structlog.dev.ConsoleRenderer(colors=False),
            ],
            # Lines from plain `logging` (Django, daphne, our modules) get the same fields.
            "foreign_pre_chain": _structlog_processors,
        }
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "structured"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # The development server prints its own access log; don't print each line twice.
        "django.channels.server": {"propagate": False},
        # django-structlog's request_started/finished lines carry the request id and timing.
        "django_structlog": {"level": LOG_LEVEL},
    },
}
