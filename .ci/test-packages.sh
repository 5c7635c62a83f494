#!/usr/bin/env bash
# The fleet's process tests (fleet_test.go) start redis-server and haproxy on free
# ports: install Debian's when missing. Nothing is started here.
set -euo pipefail

missing=()
command -v redis-server >/dev/null || missing+=(redis-server)
command -v haproxy >/dev/null || missing+=(haproxy)
if [ ${#missing[@]} -gt 0 ]; then
	echo "== apt-get install ${missing[*]}"
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
# Debian's package starts a redis-server on :6379 as a service; the tests use their own.
redis-server --version
haproxy -v | head -1
