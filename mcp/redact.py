"""Keeping secrets and tracebacks out of what the server shows and logs (pure, plus a filter).

Used by the tools that print request data, by error reporting, and as a logging filter on
every handler, so a token, cookie or password never reaches a client or a log line.
"""

from __future__ import annotations

import logging
import re
import traceback
from urllib.parse import urlsplit, urlunsplit

SECRET_NAME = re.compile(
    r"(pass(word|wd)?|pwd|secret|token|key|auth|credential|cookie|session_?id|private|signature)",
    re.IGNORECASE,
)
# Header values shown with only a short prefix.
SECRET_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "cookie", "set-cookie", "x-auth-token", "x-api-key"}
)

_URL_PASSWORD = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)(?P<user>[^:/@\s]*):(?P<pw>[^@/\s]+)@")
_BEARER = re.compile(r"(?P<kind>\b(?:Bearer|Basic|Token)\s+)(?P<value>[A-Za-z0-9._~+/=-]{6,})", re.IGNORECASE)
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*")
_ASSIGNMENT = re.compile(
    r"(?P<name>\b[A-Za-z0-9_-]*(?:pass(?:word|wd)?|secret|token|api_?key|cookie)[A-Za-z0-9_-]*)"
    r"(?P<sep>[\"']?\s*[=:]\s*[\"']?)(?P<value>[^\s,;&\"']+)",
    re.IGNORECASE,
)

KEEP = 4


def mask(value: str, keep: int = KEEP) -> str:
    """Show the first ``keep`` characters and the length, never the rest."""
    if not value:
        return value
    shown = value[:keep] if len(value) > keep * 2 else ""
    return f"{shown}…[{len(value)} chars redacted]"


def is_secret_name(name: str) -> bool:
    return bool(SECRET_NAME.search(name))


def redact_url(url: str) -> str:
    """Replace the password of ``scheme://user:password@host`` with ``***``."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return _URL_PASSWORD.sub(r"\g<scheme>\g<user>:***@", url)
    if parts.password is None:
        return url
    userinfo = f"{parts.username or ''}:***@"
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme, userinfo + host, parts.path, parts.query, parts.fragment))


def redact_header(name: str, value: str) -> str:
    if name.lower() in SECRET_HEADERS:
        kind, sep, rest = value.partition(" ")
        if sep and kind.lower() in ("bearer", "basic", "token", "dpop"):
            return f"{kind} {mask(rest)}"
        return mask(value)
    return redact_text(value)


# Each pattern above needs one of its words (lower-cased) in the text: most text has none
# and skips the regular expressions (every log line and traffic excerpt goes through here),
# and text that has one (a tool named bearerDecode) runs only the patterns it could match.
_TRIGGERS = ("://", "bearer", "basic", "token", "eyj", "pass", "secret", "api", "cookie")


def redact_text(text: str) -> str:
    """Mask anything in free text that looks like a credential."""
    lowered = text.lower()
    for trigger in _TRIGGERS:  # a loop, not any(): no generator for the usual text
        if trigger in lowered:
            break
    else:
        return text
    if "://" in lowered:
        text = _URL_PASSWORD.sub(r"\g<scheme>\g<user>:***@", text)
    if "bearer" in lowered or "basic" in lowered or "token" in lowered:
        text = _BEARER.sub(lambda m: m.group("kind") + mask(m.group("value")), text)
    if "eyj" in lowered:
        text = _JWT.sub(lambda m: mask(m.group(0)), text)
    if any(word in lowered for word in ("pass", "secret", "token", "api", "cookie")):
        text = _ASSIGNMENT.sub(lambda m: m.group("name") + m.group("sep") + mask(m.group("value")), text)
    return text


def describe_exception(exc: BaseException) -> str:
    """``Type at file:line: message`` for the innermost frame; never a whole traceback."""
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" at {frames[-1].filename.rsplit('/', 2)[-1]}:{frames[-1].lineno}" if frames else ""
    message = redact_text(str(exc))[:200]
    return f"{type(exc).__name__}{where}: {message}" if message else f"{type(exc).__name__}{where}"


# Loggers whose every record is composed of masked facts (mcp.ops.logs.log_access).
PRE_REDACTED = frozenset({"mcp.access"})


class RedactingFilter(logging.Filter):
    """Rewrites every record: credentials masked, tracebacks reduced to one line. The access
    log's records (``PRE_REDACTED``) are masked where they are made and pass untouched."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name in PRE_REDACTED and not record.args and not record.exc_info:
            return True
        try:
            message = record.getMessage()
        except Exception:
            message = str(record.msg)
        if record.exc_info and record.exc_info[1] is not None:
            message = f"{message} ({describe_exception(record.exc_info[1])})"
        record.msg = redact_text(message)
        record.args = None
        record.exc_info = None
        record.exc_text = None
        record.stack_info = None
        return True


# --- What the tools and the traffic record show of a request -----------------------------------

HEADER_LIMIT = 500
# Identity headers a gateway injects: shown as sent, although "auth" is in some of their names.
IDENTITY_HEADERS = frozenset({"x-user-id", "x-user-name", "x-client-id", "x-oauth-client"})

# Whitespace controls become one space; other control, format (bidi overrides, zero-width)
# and surrogate characters are dropped, so user text cannot forge lines or reorder output.
_WHITESPACE = re.compile(r"[\t\n\r\v\f\x1c-\x1f\x85\u2028\u2029]+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufeff\ud800-\udfff]")


def clean(value: str, limit: int = 200) -> str:
    """``value`` without control characters, at most ``limit`` characters (``…`` marks a cut)."""
    text = _CONTROL.sub("", _WHITESPACE.sub(" ", value[: limit * 2 + 16]))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def shown_header(name: str, value: str) -> str:
    """A header value as the tools print it: credentials masked to a short prefix and length."""
    name = name.lower()
    if name not in SECRET_HEADERS and name not in IDENTITY_HEADERS and is_secret_name(name):
        value = mask(value)
    else:
        value = redact_header(name, value)
    return clean(value, HEADER_LIMIT)
