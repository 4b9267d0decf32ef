#!/usr/bin/env bash
# Runs the second client (fieldbook_client.py) against a fresh demo server.
# Usage: tests/second_client/run.sh [path/to/fieldbook-server]   (default ./target/debug/fieldbook-server)
set -euo pipefail

server_bin="${1:-./target/debug/fieldbook-server}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if [[ ! -x "$server_bin" ]]; then
    echo "second client: server binary '$server_bin' not found or not executable" >&2
    exit 2
fi

workdir="$(mktemp -d)"
server_pid=""
cleanup() {
    if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$workdir"
}
trap cleanup EXIT

export FIELDBOOK_DATABASE="$workdir/server.sqlite"
"$server_bin" init --admin-password admin-pw-123 >/dev/null
"$server_bin" demo --work-orders 30 --password demo-pw-123 >/dev/null

port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
url="http://127.0.0.1:$port"
"$server_bin" serve --listen "127.0.0.1:$port" >"$workdir/server.log" 2>&1 &
server_pid=$!

# Wait up to 30 s for the server to answer /healthz.
healthy=no
for _ in $(seq 1 300); do
    if python3 -c 'import sys, urllib.request; urllib.request.build_opener(urllib.request.ProxyHandler({})).open(sys.argv[1] + "/healthz", timeout=1)' "$url" 2>/dev/null; then
        healthy=yes
        break
    fi
    if ! kill -0 "$server_pid" 2>/dev/null; then
        echo "second client: the server exited before answering /healthz:" >&2
        cat "$workdir/server.log" >&2
        exit 1
    fi
    sleep 0.1
done
if [[ $healthy != yes ]]; then
    echo "second client: the server did not answer $url/healthz within 30 s" >&2
    exit 1
fi

status=0
python3 "$here/fieldbook_client.py" "$url" tech1 demo-pw-123 || status=$?
if [[ $status -ne 0 ]]; then
    echo "--- server log ---" >&2
    tail -n 50 "$workdir/server.log" >&2
fi
exit "$status"
