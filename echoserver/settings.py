"""All settings, read from the environment by the strict helpers in ``echoserver.env``.

With no environment at all the server runs on the embedded default: sessions and queues in
Django's local-memory cache (one process), Django's own tables in SQLite under MCP_DATA_DIR.
Setting REDIS_URL moves sessions and queues to Redis so any number of workers and machines
can serve any session.
"""

from __future__ import annotations

import secrets
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from echoserver.env import (
    check_origin,
    env_bool,
    env_choice,
    env_database_url,
    env_file,
    env_float,
    env_http_url,
    env_int,
    env_list,
    env_networks,
    env_parsed,
    env_redis_url,
    env_str,
    writable_dir,
)
from mcp.faults import profile as fault_profile

BASE_DIR = Path(__file__).resolve().parent.parent
# Created whatever the secret key's source: SQLite needs it either way.
DATA_DIR = writable_dir("MCP_DATA_DIR", Path(env_str("MCP_DATA_DIR", str(Path.cwd() / "var"))))

# --- How the console script serves (read here too, so a malformed value stops every entry point)

MCP_ECHO_HOST = env_str("MCP_ECHO_HOST", "127.0.0.1")
MCP_ECHO_PORT = env_int("MCP_ECHO_PORT", 3000, minimum=1, maximum=65535)
MCP_WORKERS = env_int("MCP_WORKERS", 1, minimum=1, maximum=256)

# --- Django core --------------------------------------------------------------------------

# Django's DEBUG stays off: debug pages would show tracebacks. MCP_ECHO_DEBUG only raises
# the log level.
DEBUG = False
MCP_ECHO_DEBUG = env_bool("MCP_ECHO_DEBUG", False)


def _secret_key() -> str:
    configured = env_str("DJANGO_SECRET_KEY")
    if configured:
        return configured
    # A fresh checkout works with no configuration: keep a generated key beside the database
    # so admin logins survive restarts.
    key_file = DATA_DIR / "secret_key"
    try:
        return key_file.read_text().strip()
    except FileNotFoundError:
        pass
    key = secrets.token_urlsafe(50)
    try:
        key_file.write_text(key)
        key_file.chmod(0o600)
    except OSError:
        pass
    return key


SECRET_KEY = _secret_key()

INSTALLED_APPS = [
    # First, so its runserver (uvicorn, ASGI) wins over staticfiles' (WSGI).
    "mcp.apps.McpConfig",
    "mcp.ops.apps.OpsConfig",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "corsheaders",
    "django_prometheus",
    "mcp.oauth.apps.OAuthConfig",
]

# The full chain, for the admin, the status page and /metrics.
MIDDLEWARE = [
    "mcp.ops.middleware.HostCheckMiddleware",
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "mcp.ops.middleware.AsyncStreamingMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

# The chain for the MCP endpoints (/mcp, /sse, /messages): async-native middleware only, so
# a request never hops to a thread (see echoserver.handler).
MCP_MIDDLEWARE = [
    "mcp.transport.security.HostOriginMiddleware",
    "mcp.transport.security.McpCorsMiddleware",
]
MCP_PATHS = ("/mcp", "/sse", "/messages")
MCP_URLCONF = "mcp.urls"

ROOT_URLCONF = "echoserver.urls"
ASGI_APPLICATION = "echoserver.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        # A checkout (or MCP_TEMPLATES_DIR when installed from a wheel, as in the Dockerfile).
        "DIRS": [Path(env_str("MCP_TEMPLATES_DIR", str(BASE_DIR / "templates")))],
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

# DATABASE_URL (PostgreSQL) is the database several processes share: admin users and the embedded
# OAuth server's clients, grants and tokens. Unset, Django's tables live in one SQLite file, for
# one process (or several on one machine that take turns writing).
_database_url = env_database_url("DATABASE_URL")
DATABASES = {
    "default": _database_url
    or {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": env_str("MCP_DATABASE_PATH", str(DATA_DIR / "db.sqlite3")),
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env_str("MCP_STATIC_ROOT") or None
WHITENOISE_USE_FINDERS = True

# --- Hosts, origins, proxies ----------------------------------------------------------------

LOCAL_HOSTS = ["localhost", "127.0.0.1", "[::1]"]
MCP_ALLOWED_HOSTS = env_list("MCP_ALLOWED_HOSTS", LOCAL_HOSTS)
# The operator pages (/health, /metrics, /status, /admin/) also answer on the loopback
# names, so a container's own health check works whatever public name MCP_ALLOWED_HOSTS
# holds (a DNS-rebinding page never sends a loopback Host). /mcp keeps the strict list.
ALLOWED_HOSTS = list(dict.fromkeys([*MCP_ALLOWED_HOSTS, *LOCAL_HOSTS]))

# Seed compatibility: CORS_ORIGIN is a single origin or "*".
_cors_origin = check_origin("CORS_ORIGIN", env_str("CORS_ORIGIN")) if env_str("CORS_ORIGIN") else ""
MCP_ALLOWED_ORIGINS = [
    check_origin("MCP_ALLOWED_ORIGINS", origin)
    for origin in env_list(
        "MCP_ALLOWED_ORIGINS",
        [_cors_origin] if _cors_origin else ["http://localhost", "http://127.0.0.1", "http://[::1]"],
    )
]
MCP_TRUSTED_PROXIES = env_networks("MCP_TRUSTED_PROXIES")

CORS_ALLOW_ALL_ORIGINS = "*" in MCP_ALLOWED_ORIGINS
CORS_ALLOWED_ORIGIN_REGEXES = [
    # Any port on each allowed origin, like the host rule.
    r"^" + origin.replace(".", r"\.").replace("[", r"\[").replace("]", r"\]") + r"(:\d+)?$"
    for origin in MCP_ALLOWED_ORIGINS
    if origin != "*"
]
CORS_ALLOW_METHODS = ["GET", "POST", "DELETE", "OPTIONS"]
CORS_ALLOW_HEADERS = [
    "accept",
    "authorization",
    "content-type",
    "last-event-id",
    "mcp-protocol-version",
    "mcp-session-id",
]
CORS_EXPOSE_HEADERS = ["Mcp-Session-Id", "Mcp-Protocol-Version", "WWW-Authenticate"]

# --- MCP: protocol ---------------------------------------------------------------------------

KNOWN_PROTOCOL_VERSIONS = ("2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05")
MCP_PROTOCOL_VERSIONS_SUPPORTED = env_list("MCP_PROTOCOL_VERSIONS_SUPPORTED", list(KNOWN_PROTOCOL_VERSIONS))
for _version in MCP_PROTOCOL_VERSIONS_SUPPORTED:
    if _version not in KNOWN_PROTOCOL_VERSIONS:
        raise ImproperlyConfigured(
            f"MCP_PROTOCOL_VERSIONS_SUPPORTED names {_version!r}; this server speaks "
            + ", ".join(KNOWN_PROTOCOL_VERSIONS)
        )
if not MCP_PROTOCOL_VERSIONS_SUPPORTED:
    raise ImproperlyConfigured("MCP_PROTOCOL_VERSIONS_SUPPORTED must name at least one version")
# Newest first, whatever order the operator wrote.
MCP_PROTOCOL_VERSIONS_SUPPORTED = sorted(set(MCP_PROTOCOL_VERSIONS_SUPPORTED), reverse=True)
MCP_PROTOCOL_VERSION = env_str("MCP_PROTOCOL_VERSION", MCP_PROTOCOL_VERSIONS_SUPPORTED[0])
if MCP_PROTOCOL_VERSION not in MCP_PROTOCOL_VERSIONS_SUPPORTED:
    raise ImproperlyConfigured(
        f"MCP_PROTOCOL_VERSION {MCP_PROTOCOL_VERSION!r} is not in MCP_PROTOCOL_VERSIONS_SUPPORTED"
    )

# The stateless era (2026-07-28) beside the session versions above, on the same /mcp.
MODERN_PROTOCOL_VERSION = "2026-07-28"
MCP_STATELESS = env_bool("MCP_STATELESS", True)
# The HMAC key of requestState (multi round-trip requests); unset: a random key kept in the
# store (so shared by every node on one Redis).
MCP_STATE_KEY = env_str("MCP_STATE_KEY")
# Seconds a requestState (multi round-trip request) stays valid.
MCP_STATE_TTL = env_float("MCP_STATE_TTL", 900.0, minimum=1.0)
# Seconds a subscriptions/listen stream lasts before the server ends it with its result.
MCP_LISTEN_TIMEOUT = env_float("MCP_LISTEN_TIMEOUT", 3600.0, minimum=0.05)
# Caching hints (ttlMs, cacheScope) on 2026-07-28 list results and resources/read.
MCP_CACHE_TTL_MS = env_int("MCP_CACHE_TTL_MS", 60_000, minimum=0)

MCP_SERVER_NAME = env_str("MCP_SERVER_NAME", "mcp-echo-stateful-server")
MCP_TOOLSETS = env_list("MCP_TOOLSETS", ["all"])
SAMPLE_TOOL_NAME = env_str("SAMPLE_TOOL_NAME")

# --- MCP: sessions, queues, streams --------------------------------------------------------

MCP_SESSION_TIMEOUT = env_int("MCP_SESSION_TIMEOUT", 3600, minimum=1)
MCP_SWEEP_INTERVAL = env_float("MCP_SWEEP_INTERVAL", 60.0, minimum=0.05)
MCP_QUEUE_SIZE = env_int("MCP_QUEUE_SIZE", 100, minimum=1)
# Events kept per request stream for Last-Event-ID replay, and request streams kept per session.
MCP_REPLAY_SIZE = env_int("MCP_REPLAY_SIZE", 1000, minimum=1)
MCP_RETAINED_STREAMS = env_int("MCP_RETAINED_STREAMS", 16, minimum=1)
MCP_PAGE_SIZE = env_int("MCP_PAGE_SIZE", 100, minimum=1)
MCP_KEEPALIVE_INTERVAL = env_float("MCP_KEEPALIVE_INTERVAL", 15.0, minimum=0.05)
MCP_SSE_RETRY_MS = env_int("MCP_SSE_RETRY_MS", 1000, minimum=0)
MCP_CLIENT_REQUEST_TIMEOUT = env_float("MCP_CLIENT_REQUEST_TIMEOUT", 60.0, minimum=0.05)
MCP_MAX_SESSIONS = env_int("MCP_MAX_SESSIONS", 100_000, minimum=1)

# --- MCP: limits on input ------------------------------------------------------------------

MCP_MAX_BODY_BYTES = env_int("MCP_MAX_BODY_BYTES", 4 * 1024 * 1024, minimum=1024)
MCP_MAX_JSON_DEPTH = env_int("MCP_MAX_JSON_DEPTH", 64, minimum=2, maximum=1000)
MCP_MAX_BATCH = env_int("MCP_MAX_BATCH", 100, minimum=1)
# What one HTTP request's answers may weigh: a single answer, or a batch's array (mcp.policy.budget).
MCP_MAX_RESPONSE_BYTES = env_int("MCP_MAX_RESPONSE_BYTES", MCP_MAX_BODY_BYTES, minimum=1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = MCP_MAX_BODY_BYTES
# The request head (console script's uvicorn; echoserver/http_limits.py): 431 beyond either.
MCP_MAX_HEADERS = env_int("MCP_MAX_HEADERS", 128, minimum=16)
MCP_MAX_HEADER_BYTES = env_int("MCP_MAX_HEADER_BYTES", 64 * 1024, minimum=4096)

# --- Limits on clients (0 or unset: off where noted) --------------------------------------

MCP_MAX_SESSIONS_PER_CLIENT = env_int("MCP_MAX_SESSIONS_PER_CLIENT", 50_000, minimum=1)
MCP_MAX_STREAMS_PER_SESSION = env_int("MCP_MAX_STREAMS_PER_SESSION", 8, minimum=1)
# Concurrent subscriptions/listen streams per client address, per process (429 beyond).
MCP_MAX_LISTEN_PER_CLIENT = env_int("MCP_MAX_LISTEN_PER_CLIENT", 16, minimum=1)
MCP_MAX_STRING_BYTES = env_int("MCP_MAX_STRING_BYTES", 1024 * 1024, minimum=64)
# Requests per MCP_RATE_WINDOW seconds per client (principal, else address); 0 = off.
MCP_RATE_LIMIT = env_int("MCP_RATE_LIMIT", 0, minimum=0)
MCP_RATE_WINDOW = env_float("MCP_RATE_WINDOW", 60.0, minimum=0.001)

# --- Fault injection (README "Test your client") ------------------------------------------

# A fault profile (JSON) for every session that has not set or cleared its own.
MCP_FAULTS = env_parsed(
    "MCP_FAULTS", None, lambda text: fault_profile.parse(text, max_bytes=MCP_MAX_BODY_BYTES)
)

# --- OAuth 2.1 resource-server mode ----------------------------------------------------------

MCP_AUTH = env_choice("MCP_AUTH", "none", ("none", "jwt", "embedded"))
MCP_RESOURCE_URL = env_http_url("MCP_RESOURCE_URL")
if MCP_AUTH == "embedded" and not MCP_RESOURCE_URL:
    _host = env_str("MCP_ECHO_HOST", "127.0.0.1")
    _host = "127.0.0.1" if _host in ("0.0.0.0", "::") else _host
    MCP_RESOURCE_URL = f"http://{_host}:{env_int('MCP_ECHO_PORT', 3000, minimum=1)}/mcp"
MCP_JWT_SECRET = env_str("MCP_JWT_SECRET")
MCP_JWT_PUBLIC_KEY_FILE = env_file("MCP_JWT_PUBLIC_KEY_FILE")
MCP_JWKS_URL = env_http_url("MCP_JWKS_URL")
MCP_JWKS_CACHE_SECONDS = env_int("MCP_JWKS_CACHE_SECONDS", 300, minimum=0)
MCP_JWT_ALGORITHMS = env_list("MCP_JWT_ALGORITHMS", [])
MCP_JWT_ISSUER = env_str("MCP_JWT_ISSUER")
MCP_JWT_AUDIENCE = env_str("MCP_JWT_AUDIENCE", MCP_RESOURCE_URL)
MCP_JWT_LEEWAY = env_int("MCP_JWT_LEEWAY", 30, minimum=0)
MCP_AUTHORIZATION_SERVERS = env_list("MCP_AUTHORIZATION_SERVERS", [])
MCP_REQUIRED_SCOPES = env_list("MCP_REQUIRED_SCOPES", [])
# --- Embedded OAuth 2.1 authorization server (MCP_AUTH=embedded; mcp/oauth/) -----------------
# The same process issues the tokens that the resource-server code above verifies.
MCP_OAUTH_ISSUER = env_str("MCP_OAUTH_ISSUER").rstrip("/")
MCP_OAUTH_SIGNING_KEY_FILE = env_str("MCP_OAUTH_SIGNING_KEY_FILE", str(DATA_DIR / "oauth-signing-key.pem"))
MCP_OAUTH_ACCESS_TOKEN_TTL = env_int("MCP_OAUTH_ACCESS_TOKEN_TTL", 3600, minimum=1)
MCP_OAUTH_REFRESH_TOKEN_TTL = env_int("MCP_OAUTH_REFRESH_TOKEN_TTL", 30 * 86400, minimum=1)
MCP_OAUTH_CODE_TTL = env_int("MCP_OAUTH_CODE_TTL", 600, minimum=1, maximum=600)
MCP_OAUTH_CONSENT = env_choice("MCP_OAUTH_CONSENT", "page", ("page", "auto"))
MCP_OAUTH_SUBJECT = env_str("MCP_OAUTH_SUBJECT", "demo-user")
MCP_OAUTH_STEP_UP_SCOPE = env_str("MCP_OAUTH_STEP_UP_SCOPE", "mcp:elevated")
MCP_OAUTH_STEP_UP_TOOLS = env_list("MCP_OAUTH_STEP_UP_TOOLS", [])
MCP_OAUTH_MISBEHAVIOURS = env_list("MCP_OAUTH_MISBEHAVIOURS", [])
MCP_OAUTH_DCR = env_bool("MCP_OAUTH_DCR", True)
MCP_OAUTH_CIMD_ALLOWED_HOSTS = env_list("MCP_OAUTH_CIMD_ALLOWED_HOSTS", [])
MCP_OAUTH_CIMD_CACHE_SECONDS = env_int("MCP_OAUTH_CIMD_CACHE_SECONDS", 300, minimum=0)
# Bodies of /oauth/token, /register and /revoke (413 beyond); bounds one client's stored metadata.
MCP_OAUTH_MAX_BODY_BYTES = env_int("MCP_OAUTH_MAX_BODY_BYTES", 16 * 1024, minimum=1024)
# Open registration: per client address per window, and registered clients in all (429 beyond).
MCP_OAUTH_REGISTRATIONS_PER_ADDRESS = env_int("MCP_OAUTH_REGISTRATIONS_PER_ADDRESS", 100, minimum=1)
MCP_OAUTH_REGISTRATION_WINDOW = env_int("MCP_OAUTH_REGISTRATION_WINDOW", 3600, minimum=1)
MCP_OAUTH_MAX_CLIENTS = env_int("MCP_OAUTH_MAX_CLIENTS", 10_000, minimum=1)
# Extra CA certificates (PEM) trusted when fetching metadata documents over https.
MCP_OAUTH_CIMD_CA_FILE = env_str("MCP_OAUTH_CIMD_CA_FILE")
if MCP_AUTH == "embedded":
    from urllib.parse import urlsplit as _urlsplit

    _resource = _urlsplit(MCP_RESOURCE_URL)
    MCP_OAUTH_ISSUER = MCP_OAUTH_ISSUER or f"{_resource.scheme}://{_resource.netloc}"
    # Embedded mode is jwt mode pointed at our own issuer; its key is read locally, never fetched.
    MCP_JWT_ISSUER = MCP_OAUTH_ISSUER
    MCP_JWT_SECRET = MCP_JWKS_URL = MCP_JWT_PUBLIC_KEY_FILE = ""
    MCP_JWT_ALGORITHMS = ["RS256"]
    MCP_AUTHORIZATION_SERVERS = [MCP_OAUTH_ISSUER]
    MCP_REQUIRED_SCOPES = env_list("MCP_REQUIRED_SCOPES", ["mcp:tools"])
    from mcp.oauth.misbehaviours import parse_all as _parse_misbehaviours

    _parse_misbehaviours(MCP_OAUTH_MISBEHAVIOURS, "MCP_OAUTH_MISBEHAVIOURS")
    if MCP_OAUTH_CIMD_CA_FILE and not Path(MCP_OAUTH_CIMD_CA_FILE).is_file():
        raise ImproperlyConfigured(
            f"MCP_OAUTH_CIMD_CA_FILE {MCP_OAUTH_CIMD_CA_FILE!r} is not a readable file"
        )
if MCP_AUTH == "jwt":
    if not MCP_RESOURCE_URL:
        raise ImproperlyConfigured("MCP_AUTH=jwt needs MCP_RESOURCE_URL (the canonical URL of /mcp)")
    if not (MCP_JWT_SECRET or MCP_JWT_PUBLIC_KEY_FILE or MCP_JWKS_URL):
        raise ImproperlyConfigured(
            "MCP_AUTH=jwt needs MCP_JWT_SECRET, MCP_JWT_PUBLIC_KEY_FILE or MCP_JWKS_URL"
        )
    if not MCP_AUTHORIZATION_SERVERS:
        raise ImproperlyConfigured("MCP_AUTH=jwt needs MCP_AUTHORIZATION_SERVERS (issuer URLs)")

# --- Storage ---------------------------------------------------------------------------------

REDIS_URL = env_redis_url("REDIS_URL")
MCP_STORE = env_choice("MCP_STORE", "redis" if REDIS_URL else "memory", ("memory", "redis"))
if MCP_STORE == "redis" and not REDIS_URL:
    raise ImproperlyConfigured("MCP_STORE=redis needs REDIS_URL")
MCP_CACHE_ALIAS = "mcp"
# One prefix for every Redis key this server writes (cache alias, store, bus, rate limits).
MCP_REDIS_PREFIX = env_str("MCP_REDIS_PREFIX", "mcp")

if MCP_STORE == "redis":
    _mcp_cache = {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": MCP_REDIS_PREFIX,
        "TIMEOUT": None,
        "OPTIONS": {"CLIENT_CLASS": "django_redis.client.DefaultClient"},
    }
else:
    _mcp_cache = {
        "BACKEND": "mcp.store.memory.SessionCache",
        "LOCATION": "mcp-sessions",
        "TIMEOUT": None,
        # The session cap bounds memory; locmem's own culling would drop live sessions.
        "OPTIONS": {"MAX_ENTRIES": 2**62, "CULL_FREQUENCY": 2},
    }

CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "default"},
    MCP_CACHE_ALIAS: _mcp_cache,
}

# --- Operators: traffic record, status, logs -------------------------------------------------

# Exchanges kept per session (admin detail page, trafficLog tool); 0 turns recording off.
MCP_TRAFFIC_LOG = env_int("MCP_TRAFFIC_LOG", 50, minimum=0, maximum=10_000)
MCP_TRAFFIC_EXCERPT_BYTES = env_int("MCP_TRAFFIC_EXCERPT_BYTES", 2048, minimum=64, maximum=1024 * 1024)
# Headers kept per exchange and direction in that record, and their bytes; the rest summarised.
MCP_TRAFFIC_MAX_HEADERS = env_int("MCP_TRAFFIC_MAX_HEADERS", 64, minimum=1)
MCP_TRAFFIC_MAX_HEADER_BYTES = env_int("MCP_TRAFFIC_MAX_HEADER_BYTES", 16 * 1024, minimum=256)
# Seconds between a process's stats flush and heartbeat into the store (/status, /health).
MCP_STATS_INTERVAL = env_float("MCP_STATS_INTERVAL", 1.0, minimum=0.1)

LOG_FORMAT = env_choice("LOG_FORMAT", "plain", ("plain", "json"))
LOG_LEVEL = env_choice(
    "LOG_LEVEL", "DEBUG" if MCP_ECHO_DEBUG else "INFO", ("debug", "info", "warning", "error", "critical")
).upper()
# One line per HTTP request (logger mcp.access), whatever server runs the application.
MCP_ACCESS_LOG = env_bool("MCP_ACCESS_LOG", True)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"()": "mcp.ops.logs.PlainFormatter"},
        "json": {"()": "mcp.ops.logs.JsonFormatter"},
    },
    "filters": {"redact": {"()": "mcp.redact.RedactingFilter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["redact"],
        },
    },
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {
        "mcp": {"level": LOG_LEVEL, "propagate": True},
        "echoserver": {"level": LOG_LEVEL, "propagate": True},
        # Django would log every 4xx from the admin side with request details.
        "django.request": {"level": "ERROR", "propagate": True},
        # Authlib logs issued tokens at DEBUG.
        "authlib": {"level": "WARNING", "propagate": True},
        # A refused Host is reported once, in MCP_ALLOWED_HOSTS terms, by mcp.ops.middleware.
        "django.security.DisallowedHost": {"level": "CRITICAL", "propagate": True},
    },
}
