"""Exports of a session's recorded traffic (``mcp.traffic.record``): HAR 1.2 or JSON lines.

Three ways in, one function (``export``): the staff-only endpoint below
(``GET /ops/traffic/<session id>.har`` or ``.jsonl``, Django staff login and the admin's
live-session view permission required), the admin's
"Export traffic" action, and the ``exportTraffic`` tool for the session's own client.
Credentials stay masked as the record masks them (as printHeader does).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import orjson
from django.conf import settings
from django.contrib.admin.views.decorators import staff_member_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import path

from echoserver import __version__
from mcp.store import get_store
from mcp.traffic import har
from mcp.traffic import record as traffic

if TYPE_CHECKING:
    from mcp.store import Session, SessionStore

FORMATS = {"har": "application/json", "jsonl": "application/x-ndjson"}


async def export(store: SessionStore, session: Session, fmt: str) -> tuple[str, str]:
    """(content type, body) of ``session``'s recorded traffic in ``fmt`` ("har" or "jsonl")."""
    entries = await traffic.recent(store, session.id)
    context = {
        "session_id": session.id,
        "session_version": session.protocol_version,
        "supported": list(settings.MCP_PROTOCOL_VERSIONS_SUPPORTED),
    }
    if fmt == "jsonl":
        return FORMATS[fmt], har.to_json_lines(entries, **context)
    document = har.to_har(entries, version=__version__, **context)
    return FORMATS["har"], orjson.dumps(document, option=orjson.OPT_INDENT_2).decode()


def filename(session: Session, fmt: str) -> str:
    return f"mcp-session-{session.id[:8]}.{fmt}"


# The permission of the admin's live-session view (mcp.ops): the export shows the same sessions.
VIEW_PERMISSION = "ops.view_livesession"


@staff_member_required
async def traffic_download(request: HttpRequest, session_id: str, fmt: str) -> HttpResponse:
    """The recorded traffic of any live session, for staff with the live-session view
    permission (403 without it, as the admin list answers; an unknown session is 404)."""
    user = await request.auser()
    if not await user.ahas_perm(VIEW_PERMISSION):
        raise PermissionDenied("the live-session view permission is needed")
    store = get_store()
    session = await store.get(session_id, touch=False)
    if session is None or fmt not in FORMATS:
        raise Http404("no such session")
    content_type, body = await export(store, session, fmt)
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename(session, fmt)}"'
    response["Cache-Control"] = "no-store"
    return response


app_name = "traffic"
urlpatterns = [
    path("ops/traffic/<str:session_id>.<str:fmt>", traffic_download, name="download"),
]
