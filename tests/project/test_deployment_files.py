"""The Dockerfile and docker-compose.yml, checked without Docker (CI has none): both parse,
every path the Dockerfile copies exists and is not excluded by .dockerignore, the image runs
as a non-root user with a HEALTHCHECK on /health, and the compose file runs several
replicas on an append-only Redis behind a load balancer without sticky sessions. The compose
stack's health checks run for real in tests/e2e/test_compose_health.py."""

from __future__ import annotations

import fnmatch
from pathlib import Path

import yaml
from dockerfile_parse import DockerfileParser

REPO = Path(__file__).resolve().parents[2]


def dockerfile() -> list[dict]:
    parser = DockerfileParser(path=str(REPO / "Dockerfile"))
    return parser.structure


def ignored_patterns() -> list[str]:
    lines = (REPO / ".dockerignore").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def is_ignored(path: str, patterns: list[str]) -> bool:
    """Docker's rule, as far as these files use it: a pattern matches the path or a parent;
    ``**/`` matches at any depth."""
    parts = path.split("/")
    prefixes = ["/".join(parts[: n + 1]) for n in range(len(parts))]
    for pattern in patterns:
        if pattern.startswith("**/"):
            if any(fnmatch.fnmatch(part, pattern[3:]) for part in parts):
                return True
        elif any(fnmatch.fnmatch(prefix, pattern) for prefix in prefixes):
            return True
    return False


def test_every_path_the_dockerfile_copies_exists_and_is_in_the_build_context():
    copies = [i for i in dockerfile() if i["instruction"] in ("COPY", "ADD")]
    assert copies
    patterns = ignored_patterns()
    checked = 0
    for instruction in copies:
        words = instruction["value"].split()
        if any(word.startswith("--from") for word in words):
            continue  # from another stage, not from the repository
        sources = [w for w in words[:-1] if not w.startswith("--")]
        for source in sources:
            assert list(REPO.glob(source)), f"COPY {source}: not in the repository"
            assert not is_ignored(source.rstrip("/"), patterns), f"COPY {source}: excluded by .dockerignore"
            checked += 1
    assert checked >= 4


def test_image_is_small_non_root_and_health_checked():
    instructions = dockerfile()
    froms = [i["value"] for i in instructions if i["instruction"] == "FROM"]
    assert all("slim" in image or "alpine" in image for image in froms)
    users = [i["value"].strip() for i in instructions if i["instruction"] == "USER"]
    assert users and users[-1] not in ("root", "0")
    [healthcheck] = [i["value"] for i in instructions if i["instruction"] == "HEALTHCHECK"]
    # The port is read when the check runs (MCP_ECHO_PORT): tests/e2e/test_compose_health.py runs it.
    assert healthcheck.rstrip().endswith('CMD ["python", "-m", "echoserver.healthcheck"]')
    assert [i for i in instructions if i["instruction"] == "CMD"]


def test_build_context_leaves_out_local_state_and_secrets():
    patterns = ignored_patterns()
    for path in (".venv", "var", "var/secret_key", ".git", "mcp/__pycache__"):
        assert is_ignored(path, patterns), path
    assert not is_ignored("mcp/ops/status.py", patterns)


def test_compose_runs_replicas_behind_a_balancer_on_append_only_redis():
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    services = compose["services"]
    redis_command = " ".join(services["redis"]["command"])
    assert "--appendonly yes" in redis_command and "--appendfsync always" in redis_command
    assert any(v.endswith(":/data") for v in services["redis"]["volumes"])
    server = services["mcp-echo"]
    assert server["deploy"]["replicas"] >= 2
    # One image, built once (by the migrate service) and run by the replicas as it is.
    assert "build" not in server and server["image"] == services["migrate"]["image"]
    assert services["migrate"]["build"] == "." and (REPO / "Dockerfile").exists()
    env = server["environment"]
    assert env["REDIS_URL"].startswith("redis://redis:")
    assert "DJANGO_SECRET_KEY" in env and "data:/data" in server["volumes"]
    balancer = services["traefik"]
    assert any(port.endswith(":80") for port in balancer["ports"])
    labels = server["labels"]
    assert labels["traefik.http.services.mcp.loadbalancer.server.port"] == "3000"
    assert not [name for name in labels if "sticky" in name]
    assert set(compose["volumes"]) >= {"redis-data", "data", "postgres-data"}
