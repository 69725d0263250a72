"""The traffic export needs what the admin's live-session list needs: staff, and its view
permission (a staff user without it got 403 on the list but 200 on any session's HAR)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission


@pytest.mark.django_db(transaction=True)
async def test_staff_without_the_view_permission_cannot_download_a_session_har(
    session, async_client, django_user_model
):
    await session.rpc("ping")
    clerk = await django_user_model.objects.acreate_user("clerk", password="pw-clerk-1", is_staff=True)
    await async_client.aforce_login(clerk)
    for fmt in ("har", "jsonl"):
        refused = await async_client.get(f"/ops/traffic/{session.session_id}.{fmt}")
        assert refused.status_code == 403
        assert session.session_id.encode() not in refused.content

    view = await Permission.objects.aget(codename="view_livesession", content_type__app_label="ops")
    await clerk.user_permissions.aadd(view)
    viewer = await django_user_model.objects.aget(pk=clerk.pk)  # permissions are cached per object
    await async_client.aforce_login(viewer)
    allowed = await async_client.get(f"/ops/traffic/{session.session_id}.har")
    assert allowed.status_code == 200 and b'"entries"' in allowed.content
