// Apollo Client 3 in Node against the facade: pages through the caller's user groups
// with fetchMore, lets InMemoryCache + relayStylePagination merge the pages, and checks
// the merged list equals the upstream's (ids passed in by the Go test), each group once,
// normalized: one cache entry per group and per distinct owner. Persisted queries over
// GET (useGETForQueries with APQ), as the /explorer page sends them, and the first page
// asked again is revalidated with its ETag: 304, no body.
//
// usage: node apollo-paging.mjs <endpoint> <expect.json>
//   expect.json: {"groupIds": [...], "headers": {...}, "pageSize": n}
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { ApolloClient, HttpLink, InMemoryCache, gql } from '@apollo/client/core/index.js';
import { loadDevMessages, loadErrorMessages } from '@apollo/client/dev/index.js';
import { createPersistedQueryLink } from '@apollo/client/link/persisted-queries/index.js';
import { relayStylePagination } from '@apollo/client/utilities/index.js';

const timer = setTimeout(() => {
  console.error('timed out');
  process.exit(3);
}, 60_000);
timer.unref();

// Apollo's warnings (deprecations among them) in words, and each one fails the run.
loadDevMessages();
loadErrorMessages();
const warnings = [];
for (const level of ['warn', 'error']) {
  const original = console[level];
  console[level] = (...args) => {
    warnings.push(args.join(' '));
    original(...args);
  };
}

const [endpoint, expectFile] = process.argv.slice(2);
const expect = JSON.parse(fs.readFileSync(expectFile, 'utf8'));

const GROUPS = gql`
  query ApolloPaging($first: Int!, $after: String) {
    userGroups(first: $first, after: $after) {
      totalCount
      pageInfo {
        hasNextPage
        endCursor
      }
      edges {
        cursor
        node {
          id
          groupId
          name
          owner {
            id
            name
          }
        }
      }
    }
  }
`;

// The fetch under HttpLink revalidates like a browser's HTTP cache: a GET answered with
// an ETag is stored, the same GET again sends If-None-Match, and a 304 (no body) is
// answered from the stored body. It also checks each cacheable answer's headers.
let gets = 0;
let revalidated = 0;
const stored = new Map(); // url → {etag, body, contentType}
const revalidatingFetch = async (url, init) => {
  if ((init?.method ?? 'GET') !== 'GET') return fetch(url, init);
  gets++;
  const previous = stored.get(String(url));
  const headers = new Headers(init?.headers);
  if (previous) headers.set('If-None-Match', previous.etag);
  const response = await fetch(url, { ...init, headers });
  if (response.status === 304) {
    if (!previous) fail('304 to a GET that sent no If-None-Match');
    if ((await response.text()) !== '') fail('304 with a body');
    revalidated++;
    return new Response(previous.body, { status: 200, headers: { 'Content-Type': previous.contentType } });
  }
  const etag = response.headers.get('ETag');
  if (response.ok && etag) {
    const cacheControl = response.headers.get('Cache-Control');
    const vary = response.headers.get('Vary') ?? '';
    if (cacheControl !== 'private, no-cache') fail(`Cache-Control ${cacheControl} with an ETag`);
    if (!/Authorization/.test(vary) || !/X-User-Id/.test(vary)) fail(`Vary ${vary} does not name the credentials`);
    const body = await response.text();
    stored.set(String(url), { etag, body, contentType: response.headers.get('Content-Type') });
    return new Response(body, { status: response.status, headers: response.headers });
  }
  return response;
};

const client = new ApolloClient({
  link: createPersistedQueryLink({
    sha256: (text) => createHash('sha256').update(text).digest('hex'),
    useGETForHashedQueries: true,
  }).concat(new HttpLink({ uri: endpoint, headers: expect.headers ?? {}, fetch: revalidatingFetch, useGETForQueries: true })),
  cache: new InMemoryCache({
    typePolicies: { Query: { fields: { userGroups: relayStylePagination(['groupName', 'sourceType']) } } },
  }),
  defaultOptions: { watchQuery: { errorPolicy: 'all' }, query: { errorPolicy: 'all' } },
});

function fail(message) {
  console.error(message);
  process.exit(1);
}

const observable = client.watchQuery({ query: GROUPS, variables: { first: expect.pageSize } });
// The subscription keeps the query watched (and fetchMore possible) until the end.
let subscription;
let result = await new Promise((resolve, reject) => {
  subscription = observable.subscribe({ next: (r) => !r.loading && resolve(r), error: reject });
});
let pages = 1;
while (result.data.userGroups.pageInfo.hasNextPage) {
  if (pages > expect.groupIds.length) fail(`no end after ${pages} pages`);
  const more = await observable.fetchMore({ variables: { after: result.data.userGroups.pageInfo.endCursor } });
  if (more.errors?.length) fail(`page ${pages + 1}: ${JSON.stringify(more.errors)}`);
  pages++;
  // The merged list, as the cache's read function returns it.
  result = observable.getCurrentResult();
}
subscription.unsubscribe();
if (result.errors?.length || result.error) fail(`errors: ${JSON.stringify(result.errors ?? result.error)}`);

// What a component would read: the whole merged connection from the cache.
const merged = client.readQuery({ query: GROUPS, variables: { first: expect.pageSize } }).userGroups;
const ids = merged.edges.map((e) => e.node.groupId);
if (new Set(ids).size !== ids.length) fail(`duplicates in the merged list of ${ids.length}`);
if (JSON.stringify(ids) !== JSON.stringify(expect.groupIds)) {
  fail(`merged ${ids.length} groups, want ${expect.groupIds.length} in the upstream's order`);
}
if (merged.totalCount !== expect.groupIds.length) fail(`totalCount ${merged.totalCount}`);
const missingOwner = merged.edges.filter((e) => !e.node.owner?.name);
if (missingOwner.length) fail(`${missingOwner.length} groups without owner`);

// Normalized: each group and each distinct owner is stored once, by its global id.
const cache = client.cache.extract();
const entries = (typename) => Object.values(cache).filter((v) => v.__typename === typename).length;
const owners = new Set(merged.edges.map((e) => e.node.owner.id));
if (entries('UserGroup') !== ids.length) fail(`${entries('UserGroup')} UserGroup cache entries for ${ids.length} groups`);
if (entries('User') !== owners.size) fail(`${entries('User')} User cache entries for ${owners.size} owners`);
if (gets < pages) fail(`${gets} GETs for ${pages} pages: persisted queries not sent over GET`);
// The first page again, twice, from the network. The first time it went out with its
// text (the server did not know the hash yet), so the first repeat is a new URL (the
// hash alone) and a 200; the second repeat is the same GET, revalidated (304), and
// Apollo reads the stored answer as the current one.
let again;
for (let i = 0; i < 2; i++) {
  again = await client.query({ query: GROUPS, variables: { first: expect.pageSize }, fetchPolicy: 'network-only' });
  if (again.errors?.length) fail(`again: ${JSON.stringify(again.errors)}`);
}
if (revalidated !== 1) fail(`${revalidated} answers revalidated with 304, want 1 (the first page again)`);
const againIds = again.data.userGroups.edges.map((e) => e.node.groupId);
if (JSON.stringify(againIds) !== JSON.stringify(expect.groupIds.slice(0, expect.pageSize))) {
  fail(`the revalidated first page has ${againIds}`);
}
if (warnings.length) fail(`Apollo warned ${warnings.length} times`);

console.log(`ok: Apollo merged ${pages} pages of ${expect.pageSize} into ${ids.length} groups, upstream order, ${owners.size} owners normalized, ${gets} GETs, the first page again revalidated with 304`);
