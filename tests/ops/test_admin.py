"""The admin's live sessions, in process: list, search, detail (state, queue, traffic), and the
two actions, all read from and acting on the session store."""

from __future__ import annotations

import pytest

from mcp.store import get_store
from tests.support.admin import CHANGELIST, login, run_action

pytestmark = pytest.mark.django_db(transaction=True)


async def test_anonymous_visitors_are_sent_to_the_login_page(http):
    answer = await http.get(CHANGELIST)
    assert answer.status_code == 302 and "/admin/login/" in answer.headers["location"]


async def test_staff_without_the_view_permission_is_refused(http, django_user_model, session):
    await django_user_model.objects.acreate_user("clerk", password="pw-clerk-1", is_staff=True)
    await login(http, "clerk", "pw-clerk-1")
    assert (await http.get(CHANGELIST)).status_code == 403


async def test_the_list_shows_live_sessions_from_the_store_and_searches_them(http, admin_user, session):
    await login(http)
    page = await http.get(CHANGELIST)
    assert page.status_code == 200
    short = session.session_id[:8]
    assert f"{short}…" in page.text and "pytest 1.0" in page.text
    assert "1 live session" in page.text and 'id="searchbar"' in page.text
    found = await http.get(CHANGELIST, params={"q": short})
    assert f"{short}…" in found.text
    missing = await http.get(CHANGELIST, params={"q": "no-such-client"})
    assert f"{short}…" not in missing.text and "0 live sessions" in missing.text
    ordered = await http.get(CHANGELIST, params={"o": "-2"})
    assert ordered.status_code == 200


async def test_the_detail_page_shows_state_queue_and_traffic(http, admin_user, session):
    await session.call_tool("echo", {"message": "remember me"})
    await session.call_tool("sendNotifications", {"count": 2, "message": "queued-hello"})
    await login(http)
    page = await http.get(f"{CHANGELIST}{session.session_id}/change/")
    assert page.status_code == 200
    assert "remember me" in page.text  # the session's state
    assert page.text.count('class="queued-message"') == 2 and "queued-hello" in page.text
    traffic = page.text[page.text.index('id="traffic"') :]
    assert "tools/call" in traffic and "initialize" in traffic
    assert 'id="terminate-session"' in page.text


async def test_terminate_ends_the_session_everywhere(http, admin_user, session):
    await login(http)
    page = await http.get(f"{CHANGELIST}{session.session_id}/change/")
    answer = await run_action(http, "terminate", session.session_id, page.text)
    assert answer.status_code == 302
    assert await get_store().get(session.session_id, touch=False) is None
    assert (await session.request("ping")).status_code == 404


async def test_push_notification_queues_a_message_on_the_get_stream(http, admin_user, session):
    await login(http)
    page = await http.get(CHANGELIST)
    answer = await run_action(http, "push_notification", session.session_id, page.text)
    assert answer.status_code == 302
    detail = await http.get(f"{CHANGELIST}{session.session_id}/change/")
    assert "Test notification from the admin (admin)" in detail.text


async def test_push_notification_skips_a_session_whose_level_is_above_notice(http, admin_user, session):
    await session.rpc("logging/setLevel", {"level": "error"})
    await login(http)
    page = await http.get(CHANGELIST)
    answer = await run_action(http, "push_notification", session.session_id, page.text)
    assert answer.status_code == 302
    listing = await http.get(answer.headers["location"])
    assert "Skipped 1: their client&#x27;s log level is above notice." in listing.text
    detail = await http.get(f"{CHANGELIST}{session.session_id}/change/")
    assert "Test notification from the admin" not in detail.text


async def test_a_gone_session_redirects_with_a_message(http, admin_user):
    await login(http)
    answer = await http.get(f"{CHANGELIST}{'0' * 32}/change/")
    assert answer.status_code == 302
