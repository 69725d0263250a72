"""Two live server processes sharing one Redis: a session made on one node, spoken to on either.

The ``cluster`` fixture (tests/e2e/conftest.py) starts them; ``on`` re-addresses a client.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import httpx

from tests.e2e.live import LiveServer
from tests.support.client import McpClient


@dataclass
class Node:
    name: str
    server: LiveServer
    http: httpx.AsyncClient


@dataclass
class Cluster:
    a: Node
    b: Node
    prefix: str
    redis_url: str

    async def initialize(self, node: Node, **kwargs: Any) -> McpClient:
        client = McpClient(node.http)
        await client.initialize(client_name="multinode", **kwargs)
        assert client.session_id and re.fullmatch(r"[\x21-\x7e]{1,128}", client.session_id)
        return client


def on(client: McpClient, node: Node) -> McpClient:
    """The same session, spoken to on another node (JSON-RPC ids stay unique in the session)."""
    return McpClient(node.http, session_id=client.session_id, protocol=client.protocol, _ids=client._ids)
