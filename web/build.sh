#!/usr/bin/env bash
# Rebuilds everything under static/ that is not hand-written, from the exact versions in
# package-lock.json: the vendored GraphiQL (static/vendor/) and the /explorer bundle
# (static/explorer/). The output is committed and embedded into the Go binary; CI reruns
# this script and fails when it changes a committed file (.ci/web-check.sh).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

# --ignore-scripts: no package needs an install step (esbuild and relay-compiler ship
# their binaries inside platform packages; playwright-core downloads nothing).
npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
node tools/build.mjs
# /explorer's persisted-query manifest, by Apollo's own tool: the operations exactly as
# Apollo Client sends them (__typename added), with the hashes its APQ link sends.
npx --no-install generate-persisted-query-manifest >/dev/null
# The example mobile app's (docs/examples/mobile/), the same way.
npx --no-install generate-persisted-query-manifest --config mobile-persisted-query-manifest.config.json >/dev/null
