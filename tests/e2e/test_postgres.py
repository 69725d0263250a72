"""A real shared database: DATABASE_URL names a PostgreSQL that several processes use at once.

PostgreSQL is Debian's, started by the tests on a free port (tests/support/postgres.py); each test
gets an empty database of its own. What is shown: the migrations create every table there; a
server refuses to start on a database that lacks them (saying what to run) instead of migrating
it from every process at once; an admin login made on one process is valid on the other; the
embedded OAuth server's clients, codes and tokens, written by one process, are honoured and
revoked by the other; and neither process keeps any of it in an SQLite file of its own.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

import httpx
import psycopg
import pytest

from tests.e2e.deps import REPO
from tests.e2e.live import HTTP_TIMEOUT, console_script_argv, start_server
from tests.e2e.oauth_flow import (
    INITIALIZE,
    Pkce,
    authorize,
    call_tool,
    exchange,
    mcp_post,
    redirect_params,
    register,
)

pytestmark = pytest.mark.e2e

RESOURCE = "http://127.0.0.1:1/mcp"


def manage(
    database: str, *args: str, extra: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MCP_") and k != "DATABASE_URL"}
    env.update(DATABASE_URL=database, **(extra or {}))
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


def tables(database: str) -> set[str]:
    with psycopg.connect(database) as connection:
        rows = connection.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'").fetchall()
    return {name for (name,) in rows}


def test_migrations_create_every_table_in_postgresql(fresh_database):
    assert tables(fresh_database) == set()
    done = manage(fresh_database, "migrate", "--noinput")
    assert done.returncode == 0, done.stderr
    plan = manage(fresh_database, "showmigrations", "--plan")
    assert plan.returncode == 0 and "[X]" in plan.stdout and "[ ]" not in plan.stdout, plan.stdout
    created = tables(fresh_database)
    assert {"django_migrations", "auth_user", "django_session"} <= created
    assert {name for name in created if name.startswith("oauth_")}, created


def test_a_server_will_not_start_on_a_shared_database_that_lacks_its_migrations(fresh_database, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("MCP_")}
    env.update(DATABASE_URL=fresh_database, MCP_DATA_DIR=str(tmp_path))
    done = subprocess.run(
        console_script_argv(1), cwd=REPO, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 1
    [line] = done.stderr.strip().splitlines()
    assert "DATABASE_URL" in line and "python manage.py migrate" in line, line
    assert tables(fresh_database) == set()  # it changed nothing


def admin_login(http: httpx.Client, username: str, password: str) -> None:
    page = http.get("/admin/login/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)[1]
    answer = http.post(
        "/admin/login/?next=/admin/",
        data={"username": username, "password": password, "csrfmiddlewaretoken": token},
    )
    assert answer.status_code == 302, answer.text[:500]


def test_two_processes_share_admin_users_and_the_oauth_servers_state(fresh_database, redis_url, tmp_path):
    env = {
        "DATABASE_URL": fresh_database,
        "REDIS_URL": redis_url,
        "MCP_REDIS_PREFIX": f"pg-{tmp_path.name[-12:]}",
        "DJANGO_SECRET_KEY": "shared-" + "s" * 50,
        "MCP_AUTH": "embedded",
        "MCP_RESOURCE_URL": RESOURCE,
        "MCP_OAUTH_CONSENT": "auto",
        # One signing key for both, as compose's shared volume gives the replicas.
        "MCP_OAUTH_SIGNING_KEY_FILE": str(tmp_path / "signing-key.pem"),
    }
    # Separate data directories: whatever the two share, they share through PostgreSQL. (The
    # embedded mode's start-up helper runs `manage.py migrate` first, as compose's migrate does.)
    a = start_server(tmp_path / "a", env, argv=console_script_argv)
    made = manage(
        fresh_database,
        "createsuperuser",
        "--noinput",
        extra={
            "DJANGO_SUPERUSER_USERNAME": "ops",
            "DJANGO_SUPERUSER_PASSWORD": "a-long-test-password",
            "DJANGO_SUPERUSER_EMAIL": "ops@example.org",
        },
    )
    assert made.returncode == 0, made.stderr
    b = start_server(tmp_path / "b", env, argv=console_script_argv)
    try:
        with (
            httpx.Client(base_url=a.url, timeout=HTTP_TIMEOUT) as on_a,
            httpx.Client(base_url=b.url, timeout=HTTP_TIMEOUT) as on_b,
        ):
            admin_login(on_a, "ops", "a-long-test-password")
            on_b.cookies = on_a.cookies
            index = on_b.get("/admin/")
            assert index.status_code == 200 and "Site administration" in index.text

            client = register(on_a)
            pkce = Pkce()
            code = redirect_params(authorize(on_b, client["client_id"], pkce, resource=RESOURCE))["code"]
            token = exchange(on_a, client["client_id"], code, pkce, resource=RESOURCE).json()
            init = mcp_post(on_b, token["access_token"], INITIALIZE)
            assert init.status_code == 200, init.text
            session = init.headers["mcp-session-id"]
            echoed = mcp_post(on_a, token["access_token"], call_tool("echo", {"message": "pg"}), session)
            assert echoed.status_code == 200 and "pg" in echoed.text

            # The admin of process B lists the client that process A registered.
            clients = on_b.get("/admin/oauth/client/")
            assert clients.status_code == 200 and client["client_name"] in clients.text

            revoked = on_b.post(
                "/oauth/revoke", data={"token": token["access_token"], "client_id": client["client_id"]}
            )
            assert revoked.status_code == 200
            after = mcp_post(on_a, token["access_token"], call_tool("echo", {"message": "x"}), session)
            assert after.status_code == 401
    finally:
        a.stop()
        b.stop()
    assert not list(tmp_path.glob("*/db.sqlite3"))
