#!/usr/bin/env bash
# GraphQL-over-HTTP conformance: builds the facade, serves it in demo mode on a free
# loopback port, runs graphql-http's auditServer against /query (audit.mjs) and exits
# with the audit's status (non-zero on any error or warning).
set -euo pipefail
audit_dir="$(cd "$(dirname "$0")" && pwd)"
repo_root="$(cd "$audit_dir/../.." && pwd)"

echo "== npm ci (graphql-http audit)"
(cd "$audit_dir" && npm ci --no-audit --no-fund --loglevel=error)

tmp="$(mktemp -d)"
server_pid=""
cleanup() {
	if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
		kill "$server_pid" 2>/dev/null || true
		wait "$server_pid" 2>/dev/null || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT

echo "== build facade"
(cd "$repo_root" && go build -o "$tmp/facade" .)

# The kernel picks a free port; it is released before the facade binds it, which is
# racy only against another process grabbing that very port in between.
port="$(node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); })')"
url="http://127.0.0.1:$port/query"

echo "== start facade (demo mode) on port $port"
env -u KOODRIVE_BASE_URL PORT="$port" "$tmp/facade" >"$tmp/facade.log" 2>&1 &
server_pid=$!

probe='fetch(process.argv[1], { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ query: "{ __typename }" }) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))'
ready=""
for _ in $(seq 1 100); do
	if ! kill -0 "$server_pid" 2>/dev/null; then
		echo "facade exited before answering:"; cat "$tmp/facade.log"; exit 1
	fi
	if node -e "$probe" "$url" 2>/dev/null; then
		ready=1
		break
	fi
	sleep 0.1
done
if [ -z "$ready" ]; then
	echo "facade did not answer on $url within 10s:"; cat "$tmp/facade.log"; exit 1
fi

echo "== graphql-http audit of $url"
status=0
(cd "$audit_dir" && node audit.mjs "$url") || status=$?
if [ "$status" -ne 0 ]; then
	echo "facade log:"; cat "$tmp/facade.log"
fi
exit "$status"
