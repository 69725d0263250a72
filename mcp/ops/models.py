"""The admin's view of a live session: an unmanaged model, never saved.

Rows come from the session store (``mcp.ops.admin``), not from a database table: there is no
table, and nothing here is written anywhere.
"""

from __future__ import annotations

from datetime import UTC, datetime

from django.conf import settings
from django.db import models

from mcp import figures
from mcp.handlers.task_extension import STATE as TASK_STATE
from mcp.store import Session


class LiveSession(models.Model):
    id = models.CharField("session id", primary_key=True, max_length=128)
    client_name = models.CharField("client", max_length=200)
    client_version = models.CharField("client version", max_length=100)
    protocol_version = models.CharField("protocol", max_length=20)
    created = models.DateTimeField()
    last_activity = models.DateTimeField("last activity")
    principal = models.CharField(max_length=200, null=True)
    client_addr = models.CharField("address", max_length=100)
    requests = models.IntegerField()
    # session (2025 era), state_handle or task (2026-07-28): mcp.figures.KINDS
    kind = models.CharField(max_length=20, default=figures.SESSION)

    class Meta:
        managed = False
        verbose_name = "live session"
        ordering = ("-last_activity",)
        default_permissions = ("view",)
        permissions = [("terminate_livesession", "Can terminate live sessions and push notifications")]

    def __str__(self) -> str:
        return f"{self.id[:8]}… ({self.client_name})"

    @classmethod
    def from_session(cls, session: Session) -> LiveSession:
        return cls(
            id=session.id,
            client_name=session.client_name,
            client_version=session.client_version,
            protocol_version=session.protocol_version,
            created=datetime.fromtimestamp(session.created, tz=UTC),
            last_activity=datetime.fromtimestamp(session.last_activity, tz=UTC),
            principal=session.principal,
            client_addr=session.client_addr,
            requests=session.requests,
            kind=kind_of(session),
        )


def kind_of(session: Session) -> str:
    """Which kind of record ``session`` is: the 2026-07-28 era keeps state handles and tasks
    (a task's state holds its status under ``task``) in the same store as sessions."""
    if session.protocol_version != settings.MODERN_PROTOCOL_VERSION:
        return figures.SESSION
    return figures.TASK if TASK_STATE in session.state else figures.STATE_HANDLE
