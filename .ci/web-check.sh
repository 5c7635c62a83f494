#!/usr/bin/env bash
# The committed browser assets under web/static/ and /explorer's persisted-query manifest
# must be exactly what web/build.sh makes from the versions pinned in web/package-lock.json:
# rebuild them (npm ci, vendor GraphiQL, bundle /explorer, generate the manifest) and fail
# on any difference, new or missing file included.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== web/build.sh"
bash web/build.sh

changes="$(git status --porcelain --untracked-files=all -- web/static web/explorer/persisted-query-manifest.json)"
if [ -n "$changes" ]; then
	echo "web/static differs from what web/build.sh builds; run it and commit the result:"
	echo "$changes"
	git diff --stat -- web/static web/explorer/persisted-query-manifest.json
	exit 1
fi
echo "web/static matches its build"
