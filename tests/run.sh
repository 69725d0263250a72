#!/usr/bin/env bash
# The test command: bash tests/run.sh [pytest args...]
#
# On a fresh Debian machine (root, no stdin, CI=true) it installs what the tests need and runs
# them; a second run only checks and runs. In order:
#   1. Debian packages whose binaries are missing: redis-server, postgresql, chromium, chromium-driver (the
#      browser tests drive Debian's Chromium with Selenium; never a browser download) (and node/npm or
#      python3-venv if even those are missing). As root only; otherwise it stops and says what.
#   2. .venv (python3 -m venv) with `pip install -e '.[test]'`, redone when pyproject.toml or
#      the base Python changes. The official MCP SDK must never be in it (it is also `mcp`).
#   3. The end-to-end tests' own dependencies (python -m tests.e2e.deps): npm ci in each
#      tests/e2e folder with a package-lock.json (clients, conformance suites, HAR validator,
#      MCP Apps test host), and the Python SDKs' own virtualenvs under var/e2e-cache
#      (MCP_E2E_CACHE moves them).
#   4. ruff check . and ruff format --check .
#   5. .venv/bin/python -m pytest -q "$@" (TEST_TIMEOUT seconds at most, default 3600).
# Exits non-zero if any step fails; lint failures are reported but pytest still runs.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
export DEBIAN_FRONTEND=noninteractive
export PIP_DISABLE_PIP_VERSION_CHECK=1
export npm_config_update_notifier=false

step() { printf '\n==> %s\n' "$*"; }
die() {
  echo "tests/run.sh: $*" >&2
  exit 1
}

# --- 1. System packages ----------------------------------------------------------------------------
step "system packages"
command -v python3 >/dev/null || die "python3 (>= 3.11) is not installed"
python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' ||
  die "python3 is $(python3 --version 2>&1); this project needs Python >= 3.11"

missing=()
command -v redis-server >/dev/null || missing+=(redis-server)
command -v chromium >/dev/null || missing+=(chromium)
command -v chromedriver >/dev/null || missing+=(chromium-driver)
# The shared-database tests start their own PostgreSQL (tests/support/postgres.py).
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || missing+=(postgresql)
{ command -v node >/dev/null && command -v npm >/dev/null; } || missing+=(nodejs npm)
python3 -c 'import ensurepip, venv' 2>/dev/null || missing+=(python3-venv)
if ((${#missing[@]} > 0)); then
  if [ "$(id -u)" -ne 0 ]; then
    die "missing Debian packages: ${missing[*]}; as root run: apt-get install -y --no-install-recommends ${missing[*]}"
  fi
  command -v apt-get >/dev/null || die "missing ${missing[*]} and there is no apt-get to install them"
  echo "installing: ${missing[*]}"
  apt_log="$(mktemp)"
  if ! { timeout 900 apt-get update -q && timeout 1800 apt-get install -y -q --no-install-recommends "${missing[@]}"; } \
    </dev/null >"$apt_log" 2>&1; then
    tail -n 40 "$apt_log" >&2
    die "apt-get could not install ${missing[*]} (log: $apt_log)"
  fi
  rm -f "$apt_log"
else
  echo "redis-server, postgresql, chromium, chromedriver, node, npm: present"
fi

# --- 2. The project's virtualenv -------------------------------------------------------------------
step ".venv"
base_python="$(python3 -c 'import sys; print(sys.version)')"
if [ ! -x .venv/bin/python ] || [ "$(.venv/bin/python -c 'import sys; print(sys.version)' 2>/dev/null)" != "$base_python" ]; then
  echo "creating .venv"
  rm -rf .venv
  timeout 300 python3 -m venv .venv
fi
deps_hash="$( (cat pyproject.toml && echo "$base_python") | sha256sum | cut -d' ' -f1)"
if [ "$(cat .venv/.deps-sha256 2>/dev/null || true)" != "$deps_hash" ]; then
  echo "pip install -e '.[test]'"
  timeout 1800 .venv/bin/python -m pip install --quiet -e '.[test]' </dev/null
  echo "$deps_hash" >.venv/.deps-sha256
else
  echo "up to date"
fi
# The SDK is also named ``mcp``: installed here it would fight with the app of that name.
.venv/bin/python - <<'PY' || die "the official MCP SDK (distribution 'mcp') is installed in .venv; remove it: .venv/bin/pip uninstall mcp"
import importlib.metadata, sys
try:
    importlib.metadata.distribution("mcp")
except importlib.metadata.PackageNotFoundError:
    sys.exit(0)
sys.exit(1)
PY

# --- 3. End-to-end dependencies (node packages, the Python SDK's own virtualenv) -------------------
step "end-to-end dependencies"
timeout 3600 .venv/bin/python -m tests.e2e.deps </dev/null

# --- 4. Lint ---------------------------------------------------------------------------------------
step "ruff"
lint=0
.venv/bin/ruff check . || lint=1
.venv/bin/ruff format --check . || lint=1

# --- 5. Tests --------------------------------------------------------------------------------------
step "pytest"
tests=0
timeout --kill-after=30 "${TEST_TIMEOUT:-3600}" .venv/bin/python -m pytest -q "$@" </dev/null || tests=$?

echo
if [ "$lint" -ne 0 ]; then
  echo "tests/run.sh: FAILED (ruff)" >&2
fi
if [ "$tests" -ne 0 ]; then
  echo "tests/run.sh: FAILED (pytest exit code $tests)" >&2
fi
if [ "$lint" -ne 0 ] || [ "$tests" -ne 0 ]; then
  exit 1
fi
echo "tests/run.sh: OK"
