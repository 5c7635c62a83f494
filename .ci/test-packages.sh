#!/usr/bin/env bash
# Debian packages the process tests start: redis-server and haproxy (fleet_test.go) on
# free ports, podman to build and mount the image (deploy/image_test.go). Installed when
# missing; nothing is started here.
set -euo pipefail

missing=()
command -v redis-server >/dev/null || missing+=(redis-server)
command -v haproxy >/dev/null || missing+=(haproxy)
command -v podman >/dev/null || missing+=(podman)
[ -s /etc/ssl/certs/ca-certificates.crt ] || missing+=(ca-certificates)
if [ ${#missing[@]} -gt 0 ]; then
	echo "== apt-get install ${missing[*]}"
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
redis-server --version
haproxy -v | head -1
podman --version
