"""The requests running in this process, so notifications/cancelled can stop them."""

from __future__ import annotations

import asyncio

_tasks: dict[tuple[str, str], asyncio.Task[object]] = {}


def _key(session_id: str, request_id: object) -> tuple[str, str]:
    # JSON ids 1 and "1" are different requests.
    return session_id, f"{type(request_id).__name__}:{request_id}"


def track(session_id: str, request_id: object, task: asyncio.Task[object]) -> None:
    key = _key(session_id, request_id)
    _tasks[key] = task
    task.add_done_callback(lambda done: _tasks.pop(key, None) if _tasks.get(key) is done else None)


def cancel(session_id: str, request_id: object) -> bool:
    task = _tasks.get(_key(session_id, request_id))
    if task is None or task.done():
        return False
    task.cancel()
    return True


def cancel_session(session_id: str) -> int:
    count = 0
    for (owner, _), task in list(_tasks.items()):
        if owner == session_id and not task.done():
            task.cancel()
            count += 1
    return count


def count() -> int:
    return len(_tasks)
