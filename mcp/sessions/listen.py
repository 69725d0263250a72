"""``subscriptions/listen`` (2026-07-28): the stateless era's channel for server notifications.

A client opens one long-lived request; its response stream carries, in order:

1. ``notifications/subscriptions/acknowledged``, listing the requested types this server
   honours (only ones it can produce);
2. each matching notification (``tools``/``prompts``/``resources`` list changes, updates of
   the resources named in ``resourceSubscriptions``), never a type the client did not ask
   for, every one tagged with ``_meta["io.modelcontextprotocol/subscriptionId"]`` = the
   listen request's id;
3. when the server ends the subscription (after ``MCP_LISTEN_TIMEOUT`` seconds), the
   completion result (``SubscriptionsListenResult``, tagged the same way).

Closing the stream ends the subscription. Changes are announced to every process
(``mcp.bus.broadcast``), so a change made through node B reaches a listener held by node A.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

from django.conf import settings

from mcp.bus.broadcast import get_broadcast
from mcp.errors import InvalidParams
from mcp.wire import jsonrpc
from mcp.wire.meta import SUBSCRIPTION_ID, finish_result

LIST_CHANGED = {
    "toolsListChanged": "tools",
    "promptsListChanged": "prompts",
    "resourcesListChanged": "resources",
}
MAX_RESOURCE_SUBSCRIPTIONS = 100


def honoured(requested: Any, capabilities: dict[str, Any]) -> dict[str, Any]:
    """The subset of the client's filter this server can serve; -32602 for a malformed one."""
    if not isinstance(requested, dict):
        raise InvalidParams("Invalid params: notifications must be an object")
    agreed: dict[str, Any] = {}
    for flag, kind in LIST_CHANGED.items():
        value = requested.get(flag)
        if value is not None and not isinstance(value, bool):
            raise InvalidParams(f"Invalid params: notifications.{flag} must be a boolean")
        if value and isinstance(capabilities.get(kind), dict) and capabilities[kind].get("listChanged"):
            agreed[flag] = True
    uris = requested.get("resourceSubscriptions")
    if uris is not None:
        if not isinstance(uris, list) or not all(isinstance(uri, str) for uri in uris):
            raise InvalidParams("Invalid params: notifications.resourceSubscriptions must be a list of URIs")
        if len(uris) > MAX_RESOURCE_SUBSCRIPTIONS:
            raise InvalidParams(f"Invalid params: at most {MAX_RESOURCE_SUBSCRIPTIONS} resourceSubscriptions")
        resources = capabilities.get("resources")
        if uris and isinstance(resources, dict) and resources.get("subscribe"):
            agreed["resourceSubscriptions"] = list(dict.fromkeys(uris))
    return agreed


def matches(agreed: dict[str, Any], announcement: dict[str, Any]) -> dict[str, Any] | None:
    """The notification an announcement becomes on this subscription, or None if not wanted."""
    kind = announcement.get("kind")
    for flag, listed in LIST_CHANGED.items():
        if kind == listed and agreed.get(flag):
            return jsonrpc.notification(f"notifications/{kind}/list_changed", {})
    uri = announcement.get("uri")
    if kind == "resource" and uri in agreed.get("resourceSubscriptions", ()):
        return jsonrpc.notification("notifications/resources/updated", {"uri": uri})
    return None


def tagged(message: dict[str, Any], subscription_id: jsonrpc.RequestId) -> dict[str, Any]:
    holder = "result" if "result" in message else "params"
    body = dict(message.get(holder) or {})
    body["_meta"] = {**(body.get("_meta") or {}), SUBSCRIPTION_ID: subscription_id}
    return {**message, holder: body}


async def announce_list_changed(kind: str) -> None:
    """Tell every listener on every process that the ``kind`` list changed."""
    await get_broadcast().announce({"kind": kind})


async def announce_resource_updated(uri: str) -> None:
    await get_broadcast().announce({"kind": "resource", "uri": uri})


async def messages(
    subscription_id: jsonrpc.RequestId, agreed: dict[str, Any], *, keepalive: float
) -> AsyncIterator[dict[str, Any] | None]:
    """The subscription's messages, ``None`` for each idle ``keepalive`` (a comment to send).

    Subscribed before the acknowledgement is yielded, so no change after it is missed.
    """
    subscription = get_broadcast().subscribe()
    try:
        await subscription.ready()
        yield tagged(
            jsonrpc.notification("notifications/subscriptions/acknowledged", {"notifications": agreed}),
            subscription_id,
        )
        ends = time.monotonic() + settings.MCP_LISTEN_TIMEOUT
        while (left := ends - time.monotonic()) > 0:
            announcement = await subscription.get(min(keepalive, left))
            if announcement is None:
                yield None
                continue
            notification = matches(agreed, announcement)
            if notification is not None:
                yield tagged(notification, subscription_id)
        done = jsonrpc.result(subscription_id, finish_result("subscriptions/listen", {}))
        yield tagged(done, subscription_id)
    finally:
        subscription.close()
