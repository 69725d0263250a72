"""Django admin over the live sessions in the store (not a database copy).

The list has the standard admin look (breadcrumbs, search, sortable columns, pagination,
actions) through ``SessionQuerySet``; the detail page adds the session's state, its queued
messages and its recent traffic (``mcp.traffic.record``). Two actions, both through
``mcp.sessions.operations``: terminate (every process sees it at once: the store forgets the session
and its streams end) and push a test notification onto the session's GET stream.
Read-only otherwise; staff with the view permission see it, the terminate permission (or a
superuser) acts.

Admin views are synchronous; the store is async: calls go through ``async_to_sync``, which
under the ASGI server runs them on the server's own event loop.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import orjson
from asgiref.sync import async_to_sync
from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse

from mcp.bus import OUTBOX, get_bus
from mcp.ops.models import LiveSession
from mcp.ops.queryset import MAX_ROWS, SessionQuerySet
from mcp.redact import redact_text
from mcp.sessions import operations as sessions
from mcp.store import get_store
from mcp.traffic import record as traffic
from mcp.wire import jsonrpc
from mcp.wire.protocol import LOG_RANK

# "View site" leads to the live dashboard (the server has no page at /).
admin.site.site_url = "/status"

SEARCHED = ("id", "client_name", "client_version", "principal", "protocol_version", "client_addr")


def _pretty(value: Any) -> str:
    return redact_text(orjson.dumps(value, option=orjson.OPT_INDENT_2, default=str).decode())


async def _rows() -> list[LiveSession]:
    return [LiveSession.from_session(s) for s in await get_store().list(limit=MAX_ROWS)]


async def _queue_depth(session_id: str) -> int:
    return (await get_bus().info(session_id, OUTBOX)).queued


async def _details(session_id: str) -> dict[str, Any] | None:
    store, bus = get_store(), get_bus()
    session = await store.get(session_id, touch=False)
    if session is None:
        return None
    outbox = await bus.info(session_id, OUTBOX)
    queued = await bus.read(session_id, OUTBOX, outbox.delivered, 0) if outbox.queued else []
    entries = await traffic.recent(store, session_id)
    for entry in entries:
        entry["when"] = datetime.fromtimestamp(entry["t"], tz=UTC)
        entry["headers_text"] = "\n".join(f"{k}: {v}" for k, v in sorted(entry["headers"].items()))
    return {
        "session": session,
        "idle_seconds": round(time.time() - session.last_activity, 1),
        "state_json": _pretty(session.state),
        "client_info_json": _pretty(session.client_info),
        "capabilities_json": _pretty(session.client_capabilities),
        "outbox": outbox,
        "queued_messages": [_pretty(event.message) for event in queued if event.message is not None],
        "traffic": list(reversed(entries)),
        "traffic_enabled": traffic.enabled(),
    }


async def _end(session_ids: list[str]) -> int:
    store, bus = get_store(), get_bus()
    ended = 0
    for session_id in session_ids:
        if await store.get(session_id, touch=False) is not None:
            await sessions.end(session_id, store, bus)
            ended += 1
    return ended


PUSH_LEVEL = "notice"


async def _push(session_ids: list[str], user: str) -> tuple[int, int]:
    """Queue a notice on each session's GET stream: (queued, skipped because the client set
    a log level above notice with logging/setLevel)."""
    store, bus = get_store(), get_bus()
    params = {"level": PUSH_LEVEL, "logger": "admin", "data": f"Test notification from the admin ({user})"}
    message = jsonrpc.notification("notifications/message", params)
    queued = skipped = 0
    for sid in session_ids:
        session = await store.get(sid, touch=False)
        if (
            session is not None
            and session.log_level is not None
            and LOG_RANK[session.log_level] > LOG_RANK[PUSH_LEVEL]
        ):
            skipped += 1
            continue
        queued += await sessions.push(sid, message, store, bus)
    return queued, skipped


@admin.register(LiveSession)
class LiveSessionAdmin(admin.ModelAdmin):
    list_display = (
        "short_id",
        "kind",
        "client",
        "protocol_version",
        "created",
        "last_activity",
        "queue_depth",
        "principal",
        "requests",
    )
    list_display_links = ("short_id",)
    search_fields = SEARCHED
    search_help_text = "Session id (or its first characters), client, principal, protocol or address"
    list_per_page = 50
    show_full_result_count = False
    actions = ["terminate", "push_notification", "export_har"]
    change_form_template = "admin/ops/livesession/change_form.html"

    # --- reading from the store ------------------------------------------------------------------

    def get_queryset(self, request: HttpRequest) -> SessionQuerySet:
        return SessionQuerySet(async_to_sync(_rows)())

    def get_search_results(
        self, request: HttpRequest, queryset: SessionQuerySet, search_term: str
    ) -> tuple[SessionQuerySet, bool]:
        words = search_term.lower().split()
        if not words:
            return queryset, False
        matched = [
            row
            for row in queryset
            if all(any(word in str(getattr(row, name) or "").lower() for name in SEARCHED) for word in words)
        ]
        return SessionQuerySet(matched), False

    def get_object(self, request: HttpRequest, object_id: str, from_field: str | None = None) -> Any:
        session = async_to_sync(get_store().get)(object_id, touch=False)
        return None if session is None else LiveSession.from_session(session)

    # --- columns ---------------------------------------------------------------------------------

    @admin.display(description="session", ordering="id")
    def short_id(self, row: LiveSession) -> str:
        return row.id[:8] + "…"

    @admin.display(description="client", ordering="client_name")
    def client(self, row: LiveSession) -> str:
        return f"{row.client_name} {row.client_version}".strip()

    @admin.display(description="queued")
    def queue_depth(self, row: LiveSession) -> int:
        return async_to_sync(_queue_depth)(row.id)

    # --- read-only, apart from the two actions -------------------------------------------------------

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_terminate_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("ops.terminate_livesession")

    @admin.action(description="Terminate the selected sessions", permissions=["terminate"])
    def terminate(self, request: HttpRequest, queryset: SessionQuerySet) -> None:
        ended = async_to_sync(_end)([row.id for row in queryset])
        self.message_user(request, f"Terminated {ended} session(s); their ids now get 404.", messages.SUCCESS)

    @admin.action(description="Push a test notification to the selected sessions", permissions=["terminate"])
    def push_notification(self, request: HttpRequest, queryset: SessionQuerySet) -> None:
        sent, skipped = async_to_sync(_push)([row.id for row in queryset], request.user.get_username())
        below = f" Skipped {skipped}: their client's log level is above {PUSH_LEVEL}." if skipped else ""
        self.message_user(
            request,
            f"Queued a notifications/message on {sent} session(s)' GET stream.{below}",
            messages.SUCCESS,
        )

    @admin.action(description="Export the selected session's traffic (HAR 1.2)")
    def export_har(self, request: HttpRequest, queryset: SessionQuerySet) -> HttpResponseRedirect | None:
        rows = list(queryset)
        if len(rows) != 1:
            self.message_user(request, "Select one session to export its traffic.", messages.WARNING)
            return None
        # The staff endpoint of mcp.traffic.export serves the file (one implementation).
        return HttpResponseRedirect(reverse("traffic:download", args=[rows[0].id, "har"]))

    # --- the detail page -------------------------------------------------------------------------

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ):
        details = async_to_sync(_details)(object_id) or {}
        context = {
            **(extra_context or {}),
            **details,
            "can_act": self.has_terminate_permission(request),
            "title": f"Live session {object_id[:8]}…",
        }
        return super().change_view(request, object_id, form_url, extra_context=context)
