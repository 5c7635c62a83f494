#!/usr/bin/env bash
# The committed browser assets under web/static/ and the persisted-query manifests of
# /explorer and the example mobile app must be exactly what web/build.sh makes from the
# versions pinned in web/package-lock.json: rebuild them (npm ci, vendor GraphiQL, bundle
# /explorer, generate the manifests) and fail on any difference, new or missing file included.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== web/build.sh"
bash web/build.sh

manifests="web/explorer/persisted-query-manifest.json docs/examples/mobile-persisted-query-manifest.json"
changes="$(git status --porcelain --untracked-files=all -- web/static $manifests)"
if [ -n "$changes" ]; then
	echo "web/static or a manifest differs from what web/build.sh builds; run it and commit the result:"
	echo "$changes"
	git diff --stat -- web/static $manifests
	exit 1
fi
echo "web/static and the manifests match their build"
