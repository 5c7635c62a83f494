#!/usr/bin/env bash
# Rebuilds static/vendor/ from the pinned npm packages in package-lock.json.
# The output is committed and embedded into the Go binary; CI can rerun this
# script and fail on `git diff --exit-code -- web/static/vendor`.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")"

# --ignore-scripts: we only copy prebuilt files, so no package code needs to run.
npm ci --ignore-scripts --no-audit --no-fund

out=static/vendor
rm -rf "$out"
mkdir -p "$out"

# source-in-node_modules destination-name; install -m pins the mode so the
# result does not depend on the caller's umask.
while read -r src dst; do
	install -m 0644 "node_modules/$src" "$out/$dst"
done <<'FILES'
react/umd/react.production.min.js react.production.min.js
react-dom/umd/react-dom.production.min.js react-dom.production.min.js
graphiql/graphiql.min.js graphiql.min.js
graphiql/graphiql.min.css graphiql.min.css
react/LICENSE LICENSE.react.txt
react-dom/LICENSE LICENSE.react-dom.txt
graphiql/LICENSE LICENSE.graphiql.txt
FILES
