"""Operator endpoints in process: /health, /metrics, /status and its feed, the traffic record,
the access log, a store outage answered 503, refused Hosts."""

from __future__ import annotations

import logging

import orjson
import pytest

from mcp.ops import stats
from mcp.store import StoreUnavailable, get_store
from mcp.traffic import record as traffic


@pytest.fixture(autouse=True)
def fresh_stats():
    backend = stats.get_stats()
    backend.reset()
    yield
    backend.reset()


class TestHealth:
    async def test_ready_answers_200_with_backend_sessions_and_version(self, http, session):
        response = await http.get("/health")
        assert response.status_code == 200
        body = response.json()
        assert body["status"] == "ok"
        assert body["store"]["backend"] == "memory" and body["store"]["reachable"] is True
        assert body["sessions"] == 1
        assert body["version"]

    async def test_unreachable_store_answers_503_and_logs_no_error(self, http, monkeypatch, caplog):
        async def down() -> bool:
            raise StoreUnavailable("redis unreachable during ping: ConnectionError")

        monkeypatch.setattr(get_store(), "ping", down)
        with caplog.at_level(logging.INFO):
            response = await http.get("/health")
        assert response.status_code == 503
        assert response.json()["status"] == "unavailable"
        assert response.json()["store"]["reachable"] is False
        assert not [r for r in caplog.records if r.levelno >= logging.ERROR]

    async def test_draining_process_is_not_ready(self, http, monkeypatch):
        from mcp.process import draining

        monkeypatch.setattr(draining, "active", lambda: True)
        response = await http.get("/health")
        assert response.status_code == 503
        assert response.json()["status"] == "draining"


class TestMetrics:
    async def test_cluster_gauges_and_counters_are_exposed(self, http, session):
        await session.call_tool("echo", {"message": "hi"})
        response = await http.get("/metrics")
        assert response.status_code == 200
        text = response.text
        assert "mcp_active_sessions 1.0" in text
        assert "mcp_open_streams 0.0" in text
        assert "mcp_queue_overflow_total 0.0" in text
        assert "mcp_store_up 1.0" in text
        assert 'mcp_tool_calls_total{outcome="ok",tool="echo"}' in text
        assert 'mcp_requests_total{method="tools/call",outcome="ok"}' in text
        assert "mcp_request_duration_seconds_bucket" in text
        assert "mcp_sessions_created_total" in text and "mcp_sessions_expired_total" in text
        # django-prometheus's HTTP metrics for the Django pages (this very scrape included).
        await http.get("/health")
        assert "django_http_responses_total_by_status_total" in (await http.get("/metrics")).text


class TestStatusFeed:
    async def test_counts_requests_by_method_and_tool_without_ids(self, http, session):
        for _ in range(3):
            await session.call_tool("echo", {"message": "hi"})
        feed = (await http.get("/status.json")).json()
        assert feed["sessions"]["active"] == 1 and feed["sessions"]["created"] == 1
        assert feed["tool_calls"]["by_tool"]["echo"] == pytest.approx(0.3)
        assert feed["requests"]["by_method"]["tools/call"] == pytest.approx(0.3)
        assert feed["latency_ms"]["samples"] >= 4 and feed["latency_ms"]["p50"] is not None
        assert sum(feed["series"]["tool_calls"]) == 3
        assert feed["store"] == {**feed["store"], "backend": "memory", "reachable": True}
        assert [p["pid"] for p in feed["processes"]]
        assert session.session_id not in orjson.dumps(feed).decode()

    async def test_queue_depths_name_sessions_by_prefix_only(self, http, session):
        await session.call_tool("sendNotifications", {"count": 4, "target": "session"})
        feed = (await http.get("/status.json")).json()
        assert feed["queues"]["deepest"] == [
            {"session": session.session_id[:8] + "…", "queued": 4, "dropped": 0}
        ]
        page = await http.get("/status")
        assert page.status_code == 200
        assert session.session_id not in page.text and session.session_id not in orjson.dumps(feed).decode()

    async def test_page_is_html_with_chart_and_embedded_snapshot(self, http):
        page = await http.get("/status")
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert 'id="chart"' in page.text and 'id="initial-snapshot"' in page.text
        assert "status.json" in page.text


class TestTrafficRecord:
    async def test_exchanges_are_recorded_with_masked_credentials(self, session):
        await session.call_tool("echo", {"message": "hi"}, Authorization="Bearer abcdefghijklmnopqrstuvwxyz")
        entries = await traffic.recent(get_store(), session.session_id)
        methods = [entry["method"] for entry in entries]
        assert methods == ["initialize", "notifications/initialized", "tools/call"]
        call = entries[-1]
        assert call["http"] == "POST" and call["path"] == "/mcp" and call["status"] == 200
        assert call["era"] == "2025" and call["marks"] == [] and call["id"] == 2
        assert call["headers"]["authorization"].startswith("Bearer abcd…")
        assert "qrstuvwxyz" not in orjson.dumps(entries).decode()
        assert '"echo"' in call["request"] and "hi" in call["response"]
        assert call["ms"] > 0 and call["t"] > 0

    async def test_tool_shows_the_session_its_own_traffic(self, session):
        result = await session.call_tool("trafficLog", {})
        assert [e["method"] for e in result["structuredContent"]["entries"]] == [
            "initialize",
            "notifications/initialized",
        ]

    async def test_bounded_by_count_and_excerpt_size(self, session, settings):
        settings.MCP_TRAFFIC_LOG = 3
        settings.MCP_TRAFFIC_EXCERPT_BYTES = 100
        for _ in range(5):
            await session.call_tool("echo", {"message": "x" * 500})
        entries = await traffic.recent(get_store(), session.session_id)
        assert len(entries) == 3
        assert all(len(e["request"].encode()) <= 100 and len(e["response"].encode()) <= 100 for e in entries)
        assert entries[-1]["request"].endswith("…")

    async def test_zero_turns_recording_off(self, mcp_client, settings):
        settings.MCP_TRAFFIC_LOG = 0
        await mcp_client.initialize()
        await mcp_client.call_tool("echo", {"message": "hi"})
        assert await get_store().read_log(mcp_client.session_id) == []

    async def test_gone_with_the_session(self, session):
        await session.call_tool("echo", {"message": "hi"})
        sid = session.session_id
        response = await session.http.delete("/mcp", headers=session.headers())
        assert response.status_code == 204
        assert await traffic.recent(get_store(), sid) == []


class TestStoreOutage:
    async def test_a_tool_meeting_the_outage_answers_503_not_internal_error(self, session, monkeypatch):
        async def down(*args, **kwargs):
            raise StoreUnavailable("redis unreachable during update: ConnectionError")

        monkeypatch.setattr(get_store(), "set_state", down)
        response = await session.request("tools/call", {"name": "echo", "arguments": {"message": "hi"}})
        assert response.status_code == 503
        body = response.json()
        assert "error" in body and "unreachable" in body["error"]["message"]

    async def test_a_lookup_meeting_the_outage_answers_503(self, session, monkeypatch):
        async def down(*args, **kwargs):
            raise StoreUnavailable("redis unreachable during get: ConnectionError")

        monkeypatch.setattr(get_store(), "get", down)
        response = await session.request("ping")
        assert response.status_code == 503 and "error" in response.json()


class TestAccessAndHosts:
    async def test_one_access_line_per_request_with_request_id(self, http, caplog):
        with caplog.at_level(logging.INFO, logger="mcp.access"):
            response = await http.get("/health")
        lines = [r for r in caplog.records if r.name == "mcp.access"]
        assert len(lines) == 1
        request_id = response.headers["x-request-id"]
        assert f"rid={request_id}" in lines[0].getMessage() and "GET /health 200" in lines[0].getMessage()

    async def test_refused_host_is_reported_in_mcp_allowed_hosts_terms(self, http, caplog):
        with caplog.at_level(logging.WARNING):
            response = await http.get("/status", headers={"Host": "evil.example"})
        assert response.status_code == 400
        assert "MCP_ALLOWED_HOSTS" in response.text
        messages = " ".join(r.getMessage() for r in caplog.records)
        assert "MCP_ALLOWED_HOSTS" in messages and "ALLOWED_HOSTS setting" not in messages

    @pytest.mark.parametrize("path", ["/health", "/metrics"])
    async def test_probes_answer_whatever_host_a_balancer_or_prometheus_sends(self, http, path):
        # Traefik and Prometheus address a replica by its own IP and port.
        response = await http.get(path, headers={"Host": "172.28.0.130:3000"})
        assert response.status_code == 200
        assert (await http.get("/status", headers={"Host": "172.28.0.130:3000"})).status_code == 400

    async def test_static_files_are_served_without_a_warning(self, http, recwarn):
        response = await http.get("/static/admin/css/base.css")
        assert response.status_code == 200 and b"body" in response.content
        assert not [w for w in recwarn if "StreamingHttpResponse" in str(w.message)]
