"""The gunicorn worker for this project: `gunicorn -k echoserver.gunicorn_worker.Worker`.

uvicorn-worker's ``UvicornWorker`` with the console script's HTTP settings, so a gunicorn
deployment behaves as ``mcp-echo-stateful-server`` does: request heads past
MCP_MAX_HEADERS / MCP_MAX_HEADER_BYTES are refused with 431 before the application sees them
(``echoserver.http_limits``), each answer's head and body leave in one write
(``echoserver.http_writes``), X-Forwarded-* count only through MCP_TRUSTED_PROXIES (the
application's own rule, not uvicorn's second one), and no ``server`` header is sent.

Needs ``gunicorn`` and ``uvicorn-worker`` installed (not dependencies of the project).
"""

from __future__ import annotations

from typing import Any, ClassVar

from uvicorn_worker import UvicornWorker


class Worker(UvicornWorker):
    CONFIG_KWARGS: ClassVar[dict[str, Any]] = {
        **UvicornWorker.CONFIG_KWARGS,
        "http": "echoserver.http_limits:HeaderLimitedHttpTools",
        "proxy_headers": False,
        "server_header": False,
    }
