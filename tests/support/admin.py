"""Driving the Django admin from tests: log in, run a change-list action with its CSRF token."""

from __future__ import annotations

import re

CHANGELIST = "/admin/ops/livesession/"


async def login(http, username: str = "admin", password: str = "password") -> None:
    page = await http.get("/admin/login/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)[1]
    answer = await http.post(
        "/admin/login/?next=/admin/",
        data={"username": username, "password": password, "csrfmiddlewaretoken": token},
    )
    assert answer.status_code == 302, answer.text[:500]


def csrf(page_text: str) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page_text)[1]


async def run_action(http, action: str, session_id: str, page_text: str):
    """Post a changelist action for one session, as the admin's forms do."""
    data = {"action": action, "_selected_action": session_id, "csrfmiddlewaretoken": csrf(page_text)}
    return await http.post(CHANGELIST, data=data)
