"""``python -m echoserver.healthcheck``: the container's health check (the Dockerfile's HEALTHCHECK).

Asks ``GET /health`` of the server on 127.0.0.1 at MCP_ECHO_PORT (read from the environment when
the check runs, as the server read it at start), and exits 0 only on a 200 answer; 1 otherwise
(draining, store unreachable, not listening, bad MCP_ECHO_PORT), with one line saying why.
It reads the port with the settings' own strict helper but never loads the settings (no Django set-up).
"""

from __future__ import annotations

import sys
import urllib.error
import urllib.request

from django.core.exceptions import ImproperlyConfigured

from echoserver.env import env_int

TIMEOUT = 4.0


def health_url() -> str:
    return f"http://127.0.0.1:{env_int('MCP_ECHO_PORT', 3000, minimum=1, maximum=65535)}/health"


def check() -> tuple[bool, str]:
    """(healthy, what was seen)."""
    try:
        url = health_url()
    except ImproperlyConfigured as exc:
        return False, str(exc)
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT) as response:  # noqa: S310 (http://127.0.0.1 only)
            return response.status == 200, f"{url}: {response.status}"
    except urllib.error.HTTPError as exc:
        return False, f"{url}: {exc.code}"
    except OSError as exc:
        return False, f"{url}: {exc}"


def main() -> None:
    healthy, seen = check()
    print(seen)
    sys.exit(0 if healthy else 1)


if __name__ == "__main__":
    main()
