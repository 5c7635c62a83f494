#!/usr/bin/env bash
# The browser tests (web_e2e_test.go) drive the system's Chromium through
# playwright-core, which never downloads a browser: install Debian's when missing.
# web/node_modules comes from `npm ci` in web/build.sh (.ci/web-check.sh).
set -euo pipefail

chromium="${CHROMIUM_PATH:-/usr/bin/chromium}"
if [ ! -x "$chromium" ]; then
	echo "== apt-get install chromium"
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium
fi
"$chromium" --version 2>/dev/null
