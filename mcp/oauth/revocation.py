"""Revoked access tokens, checked on every /mcp request in embedded mode: cheap and immediate.

The database (``Token.access_revoked``) is the record; this module is the fast path the
resource-server check reads. Guarantees:

- ``revoke`` (sync: called from the admin and the revocation endpoint, which run in threads)
  makes ``is_revoked`` true at once in this process, and, on the Redis store, in every process
  sharing that Redis (a key that expires with the token).
- ``is_revoked`` never blocks the event loop: a dict lookup, plus one Redis EXISTS on the Redis
  store. The first call of a process loads the revocations still in force from the database
  (one thread hop, once), so a restart does not forget them.
"""

from __future__ import annotations

import threading
import time

from asgiref.sync import sync_to_async
from django.conf import settings

from mcp.redis_client import get_redis, get_sync_redis, unavailable_on_error, uses_redis

_lock = threading.Lock()
_revoked: dict[str, float] = {}
_loaded = False


def _key(jti: str) -> str:
    return f"{settings.MCP_REDIS_PREFIX}:oauth:revoked:{jti}"


def _prune(now: float) -> None:
    for jti in [jti for jti, exp in _revoked.items() if exp < now]:
        del _revoked[jti]


def revoke(jti: str, expires_at: float) -> None:
    """Remember that the access token ``jti`` (valid until ``expires_at``) is revoked."""
    now = time.time()
    with _lock:
        _prune(now)
        _revoked[jti] = expires_at
    if uses_redis() and expires_at > now:
        get_sync_redis().set(_key(jti), "1", exat=int(expires_at) + 1)


def _load() -> None:
    global _loaded
    from django.utils import timezone

    from mcp.oauth.models import Token

    rows = Token.objects.filter(access_revoked__isnull=False, access_expires__gt=timezone.now())
    with _lock:
        for jti, expires in rows.values_list("jti", "access_expires"):
            _revoked.setdefault(jti, expires.timestamp())
        _loaded = True


async def is_revoked(jti: str | None) -> bool:
    if not isinstance(jti, str) or not jti:
        return False
    if not _loaded:
        await sync_to_async(_load, thread_sensitive=False)()
    if jti in _revoked:
        return True
    if uses_redis():
        with unavailable_on_error("the revocation check"):
            return bool(await get_redis().exists(_key(jti)))
    return False


def forget() -> None:
    """Tests: drop the in-process view (the database keeps the record)."""
    global _loaded
    with _lock:
        _revoked.clear()
        _loaded = False
