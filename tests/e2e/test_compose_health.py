"""The compose stack's checks run as its balancer, Docker and Prometheus run them (CI has no Docker).

docker-compose.yml is parsed; a server is started with a replica's environment exactly as compose
gives it (the ``${...}`` references interpolated as compose does, the Dockerfile's ENV beneath),
the service addresses (redis, postgres) pointing at a real redis-server and a real PostgreSQL
started by the tests, and the database prepared by the compose migrate service's own command.
Then:
- Traefik's health check: GET <healthcheck.path> with the Host Traefik sends (the label's
  ``healthcheck.hostname``, else the replica's own address and port) answers 200;
- Prometheus's scrape: GET /metrics with Host ``<replica address>:<port>`` answers the figures the
  Grafana dashboard is built on (every metric a panel queries is in the answer);
- Docker's HEALTHCHECK: the Dockerfile's command, run with the replica's environment, exits 0, and
  exits 1 when MCP_ECHO_PORT names a port where nothing answers.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from dockerfile_parse import DockerfileParser

from tests.e2e.deps import REPO
from tests.e2e.live import console_script_argv, start_server
from tests.e2e.oauth_flow import INITIALIZE, mcp_post

pytestmark = pytest.mark.e2e

# What an operator exports before `docker compose up` (see the compose file's header).
OPERATOR_ENV = {"DJANGO_SECRET_KEY": "compose-test-" + "k" * 40, "POSTGRES_PASSWORD": "pw"}
# An address Docker would give a replica on the backend network (its ip_range).
REPLICA_ADDRESS = "172.28.0.130"
REFERENCE = re.compile(r"\$\{(?P<name>[A-Z_][A-Z0-9_]*)(?:(?P<op>:[-?])(?P<arg>[^}]*))?\}")
LABEL = "traefik.http.services.mcp.loadbalancer."


def interpolate(value: str, variables: dict[str, str]) -> str:
    """Compose's ``${NAME}``, ``${NAME:-default}`` and ``${NAME:?error}``."""

    def one(match: re.Match[str]) -> str:
        name, op, arg = match["name"], match["op"], match["arg"]
        if variables.get(name):
            return variables[name]
        if op == ":?":
            raise AssertionError(f"compose would stop: {arg}")
        return arg if op == ":-" else ""

    return REFERENCE.sub(one, value)


def compose() -> dict[str, Any]:
    return yaml.safe_load((REPO / "docker-compose.yml").read_text())


def image_env() -> dict[str, str]:
    """The runtime stage's ENV (the last FROM's), as the image carries it."""
    parser = DockerfileParser(path=str(REPO / "Dockerfile"))
    return dict(parser.envs)


def replica_env(service: dict[str, Any], data_dir: Path, redis: str, database: str) -> dict[str, str]:
    env = {k: v for k, v in image_env().items() if k not in ("MCP_ECHO_HOST", "MCP_ECHO_PORT")}
    env.update(
        {name: interpolate(str(value), OPERATOR_ENV) for name, value in service["environment"].items()}
    )
    assert env["REDIS_URL"].startswith("redis://redis:") and "@postgres:5432/" in env["DATABASE_URL"]
    # The service names resolve to the test's own servers (compose's network does it there).
    env.update(
        REDIS_URL=redis,
        DATABASE_URL=database,
        MCP_DATA_DIR=str(data_dir),
        MCP_TEMPLATES_DIR=str(REPO / "templates"),
    )
    return env


def healthcheck_command() -> list[str]:
    parser = DockerfileParser(path=str(REPO / "Dockerfile"))
    [value] = [i["value"] for i in parser.structure if i["instruction"] == "HEALTHCHECK"]
    command = json.loads(value[value.index("CMD") + 3 :].strip())
    assert command[0] == "python", command
    return [sys.executable, *command[1:]]


def dashboard_metrics() -> set[str]:
    dashboard = json.loads((REPO / "deploy/grafana/dashboards/mcp-echo.json").read_text())
    names: set[str] = set()
    for panel in dashboard["panels"]:
        for target in panel["targets"]:
            names.update(
                re.sub(r"_bucket$", "", name) for name in re.findall(r"\bmcp_[a-z_]+", target["expr"])
            )
    return names


@pytest.fixture(scope="module")
def replica(tmp_path_factory, redis_url, postgres_url):
    services = compose()["services"]
    data_dir = tmp_path_factory.mktemp("replica")
    env = replica_env(services["mcp-echo"], data_dir, redis_url, postgres_url)
    migrate = services["migrate"]["command"]
    assert migrate[:2] == ["python", "manage.py"]
    run_env = {**{k: v for k, v in os.environ.items() if not k.startswith("MCP_")}, **env}
    subprocess.run([sys.executable, *migrate[1:]], cwd=REPO, env=run_env, check=True, timeout=120)
    server = start_server(data_dir, env, argv=console_script_argv)
    try:
        yield server, services
    finally:
        server.stop()


def test_the_balancers_health_check_passes_with_the_host_it_sends(replica):
    server, services = replica
    labels = services["mcp-echo"]["labels"]
    host = labels.get(LABEL + "healthcheck.hostname") or f"{REPLICA_ADDRESS}:{labels[LABEL + 'server.port']}"
    with httpx.Client(base_url=server.url, timeout=10) as http:
        answer = http.get(labels[LABEL + "healthcheck.path"], headers={"Host": host})
        assert answer.status_code == 200, answer.text
        # The MCP endpoint itself still refuses a Host outside MCP_ALLOWED_HOSTS (DNS rebinding).
        refused = http.post("/mcp", headers={"Host": host, "Content-Type": "application/json"}, content=b"{}")
        assert refused.status_code in (400, 403, 421), refused.status_code


def test_prometheus_scrapes_each_replica_by_its_address_and_finds_the_dashboards_metrics(replica):
    server, services = replica
    config = yaml.safe_load((REPO / "deploy/prometheus/prometheus.yml").read_text())
    [job] = config["scrape_configs"]
    [discovery] = job["dns_sd_configs"]
    assert discovery["names"] == ["mcp-echo"] and discovery["type"] == "A"
    assert str(discovery["port"]) == services["mcp-echo"]["labels"][LABEL + "server.port"]
    with httpx.Client(base_url=server.url, timeout=10) as http:
        # Some traffic first, so every labelled series exists.
        mcp_post(http, None, INITIALIZE)
        answer = http.get(
            job.get("metrics_path", "/metrics"), headers={"Host": f"{REPLICA_ADDRESS}:{discovery['port']}"}
        )
    assert answer.status_code == 200, answer.text
    exposed = set(re.findall(r"^# TYPE (\w+) ", answer.text, re.MULTILINE))
    missing = dashboard_metrics() - exposed
    assert not missing, f"the Grafana dashboard queries metrics /metrics does not have: {sorted(missing)}"


def test_dockers_healthcheck_follows_mcp_echo_port(replica):
    server, _ = replica
    command = healthcheck_command()
    base = {k: v for k, v in os.environ.items() if not k.startswith("MCP_")}
    healthy = subprocess.run(
        command, env={**base, "MCP_ECHO_PORT": str(server.port)}, capture_output=True, text=True, timeout=30
    )
    assert healthy.returncode == 0, healthy.stdout + healthy.stderr
    from tests.e2e.live import free_port

    elsewhere = subprocess.run(
        command, env={**base, "MCP_ECHO_PORT": str(free_port())}, capture_output=True, text=True, timeout=30
    )
    assert elsewhere.returncode == 1 and "/health" in elsewhere.stdout


def test_the_stack_builds_one_image_trusts_only_the_balancer_and_migrates_once():
    spec = compose()
    services = spec["services"]
    builders = [name for name, service in services.items() if "build" in service]
    assert builders == ["migrate"]
    assert services["mcp-echo"]["image"] == services["migrate"]["image"]
    assert services["mcp-echo"]["pull_policy"] == "never"
    balancer = services["traefik"]["networks"]["backend"]["ipv4_address"]
    assert services["mcp-echo"]["environment"]["MCP_TRUSTED_PROXIES"] == balancer
    assert services["mcp-echo"]["environment"]["DATABASE_URL"].startswith("postgres://")
    assert services["mcp-echo"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert "migrate" in services["migrate"]["command"]
