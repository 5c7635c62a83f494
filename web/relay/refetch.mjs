// Relay's refetch of a group, as a Relay app runs it: the GroupRowRefetchQuery that
// relay-compiler generated for the @refetchable GroupRow_group fragment, sent the way a
// Relay network layer sends a persisted query (the artifact's params.id, never text), with
// the group's global id. The facade must answer with the same group.
//
// usage: node relay/refetch.mjs <endpoint> <expect.json>   (after relay/validate.sh)
//   expect.json: {"group": {"id": "...", "groupId": "...", "name": "..."}}
import fs from 'node:fs';
import refetchQuery from './__generated__/GroupRowRefetchQuery.graphql.js';

const [endpoint, expectFile] = process.argv.slice(2);
const { group } = JSON.parse(fs.readFileSync(expectFile, 'utf8'));

function fail(message) {
  console.error(message);
  process.exit(1);
}

// Relay's fetchFn for persisted queries, over GET in the APQ shape the facade reads.
async function fetchQuery(params, variables) {
  if (!params.id || params.text !== null) fail(`${params.name} is not a persisted query`);
  const url = new URL(endpoint);
  url.searchParams.set('extensions', JSON.stringify({ persistedQuery: { version: 1, sha256Hash: params.id } }));
  url.searchParams.set('variables', JSON.stringify(variables));
  const response = await fetch(url, { signal: AbortSignal.timeout(30_000) });
  if (!response.ok) fail(`${params.name}: HTTP ${response.status}`);
  return response.json();
}

const { params } = refetchQuery;
const { data, errors } = await fetchQuery(params, { id: group.id });
if (errors?.length) fail(`${params.name}: ${JSON.stringify(errors)}`);
const node = data?.node;
if (node?.__typename !== 'UserGroup' || node.id !== group.id || node.groupId !== group.groupId || node.name !== group.name) {
  fail(`${params.name} for ${JSON.stringify(group)} answered ${JSON.stringify(node)}`);
}
if (!node.createdTime || !node.owner?.id) fail(`the fragment's fields are missing: ${JSON.stringify(node)}`);
console.log(`ok: ${params.name} (persisted ${params.id.slice(0, 12)}…) refetched group ${node.groupId} "${node.name}"`);
