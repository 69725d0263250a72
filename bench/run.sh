#!/usr/bin/env bash
# The benchmark: bash bench/run.sh [--smoke] [--targets a,b] [--rounds N] [--seconds S] [--skip S4,S5]
#
# Installs what it needs on first use (as root: wrk and redis-server from Debian; the peers
# into var/bench), pins the servers to core 0 and the load to core 1, and writes
# bench/results/results.md, results.json and chart.svg (raw output: bench/results/raw/).
# SMOKE=1 (or --smoke): one short round against this project only. See README.md, "Benchmark".
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
command -v python3 >/dev/null || { echo "bench/run.sh: python3 is not installed" >&2; exit 1; }
exec python3 -m bench "$@"
