#!/usr/bin/env bash
# HTTP front-end throughput (bench/README.md, "HTTP front end"): requests per
# second with 64 concurrent keep-alive connections (wrk, 2 threads) for
#   GET  /health   - routing, headers, request log
#   POST /generate - a full valid TGI body: JSON parse + parameter validation,
#                    answered 503 because the server runs without a model
# against Kiln (build/kiln serve, no model) and a peer: the same routes in
# aiohttp (bench/http/peer_aiohttp.py), run back to back in this script.
# Usage: bench/http/run.sh [build/kiln] [seconds]
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=${1:-build/kiln}
secs=${2:-10}
py=.venv/bin/python
command -v wrk >/dev/null || { echo "wrk missing (apt-get install wrk)"; exit 1; }

free_port() { $py -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_up() { for _ in $(seq 100); do curl -sf "http://127.0.0.1:$1/health" >/dev/null && return 0; sleep 0.05; done; return 1; }
rps() { wrk -t2 -c64 -d"${secs}s" --latency "$@" | awk '/Requests\/sec/ {print $2}'; }

kport=$(free_port)
# LOG_LEVEL=warn: one log line per request would measure the terminal, not the server.
LOG_LEVEL=warn "$bin" serve --no-model --hostname 127.0.0.1 --port "$kport" --prometheus-port "$(free_port)" >/dev/null 2>&1 &
kpid=$!
pport=$(free_port)
$py bench/http/peer_aiohttp.py "$pport" >/dev/null 2>&1 &
ppid=$!
trap 'kill $kpid $ppid 2>/dev/null || true' EXIT
wait_up "$kport" && wait_up "$pport"

k_health=$(rps "http://127.0.0.1:$kport/health")
p_health=$(rps "http://127.0.0.1:$pport/health")
k_gen=$(rps -s bench/http/post_generate.lua "http://127.0.0.1:$kport/generate")
p_gen=$(rps -s bench/http/post_generate.lua "http://127.0.0.1:$pport/generate")

printf '%-16s %12s %12s %8s\n' route kiln_rps aiohttp_rps ratio
printf '%-16s %12s %12s %8.1f\n' "GET /health" "$k_health" "$p_health" "$(echo "$k_health / $p_health" | bc -l)"
printf '%-16s %12s %12s %8.1f\n' "POST /generate" "$k_gen" "$p_gen" "$(echo "$k_gen / $p_gen" | bc -l)"
