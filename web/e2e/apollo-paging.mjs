// Apollo Client 3 in Node against the facade: pages through the caller's user groups
// with fetchMore, lets InMemoryCache + relayStylePagination merge the pages, and checks
// the merged list equals the upstream's (ids passed in by the Go test), each group once,
// normalized: one cache entry per group and per distinct owner. Persisted queries over
// GET, as the /explorer page sends them.
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

let gets = 0;
const countingFetch = (url, init) => {
  if ((init?.method ?? 'GET') === 'GET') gets++;
  return fetch(url, init);
};

const client = new ApolloClient({
  link: createPersistedQueryLink({
    sha256: (text) => createHash('sha256').update(text).digest('hex'),
    useGETForHashedQueries: true,
  }).concat(new HttpLink({ uri: endpoint, headers: expect.headers ?? {}, fetch: countingFetch })),
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
if (warnings.length) fail(`Apollo warned ${warnings.length} times`);

console.log(`ok: Apollo merged ${pages} pages of ${expect.pageSize} into ${ids.length} groups, upstream order, ${owners.size} owners normalized, ${gets} GETs`);
