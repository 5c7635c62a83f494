#!/usr/bin/env bash
# Compiles the explorer's operations, written for Relay (src/), against the facade's
# schema with relay-compiler, then checks in its validate mode that nothing is left
# pending. A schema change that breaks a Relay client fails here. What it writes is
# ignored by git (the artifacts, schema.graphql), except that Relay's persisted-query
# manifest ({"<sha256>": "<text>"}, the format the facade's PERSISTED_QUERIES accepts) is
# kept in relay/persisted-queries.json: it must be what relay-compiler makes.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# relay-compiler reads a schema only from a file named *.graphql, and not through a
# symlink, so relay.config.json names a copy of ../schema.graphqls.
cp ../schema.graphqls relay/schema.graphql
rm -rf relay/__generated__
mkdir relay/__generated__
echo '{}' >relay/__generated__/persisted-queries.json # persistConfig needs the file to exist

node_modules/.bin/relay-compiler --output quiet-with-errors
node_modules/.bin/relay-compiler --validate --output quiet-with-errors
# The artifacts are ES modules (eagerEsModules): say so, so Node scripts can import them.
echo '{ "type": "module" }' >relay/__generated__/package.json
if ! cmp -s relay/__generated__/persisted-queries.json relay/persisted-queries.json; then
	echo "relay/persisted-queries.json is not what relay-compiler makes: cp relay/__generated__/persisted-queries.json relay/" >&2
	exit 1
fi
echo "relay-compiler: $(ls relay/__generated__/*.graphql.js | wc -l) artifacts, schema and operations valid, the manifest current"
