import { ApolloClient, ApolloLink, HttpLink, InMemoryCache, makeVar } from '@apollo/client';
import { createPersistedQueryLink } from '@apollo/client/link/persisted-queries';
import { relayStylePagination } from '@apollo/client/utilities';

// Partial errors, filed under the object they are about: `${id}.${field}` → error.
// The server answers an owner that failed to load with `owner: null` and an error whose
// path ends at that field (["userGroups", "edges", 3, "node", "owner"]). The index in
// that path is relative to one response, not to the merged list the cache keeps, so the
// link below resolves it to the group's global id while the response is at hand.
export const fieldErrors = makeVar(new Map());

export function fieldError(errors, object, field) {
  return object && errors.get(`${object.id}.${field}`);
}

const fieldErrorsLink = new ApolloLink((operation, forward) =>
  forward(operation).map((result) => {
    const filed = [];
    for (const error of result.errors ?? []) {
      const path = error.path ?? [];
      const parent = path.slice(0, -1).reduce((value, key) => value?.[key], result.data);
      if (path.length > 1 && typeof parent?.id === 'string') {
        filed.push([`${parent.id}.${path[path.length - 1]}`, error]);
      }
    }
    if (filed.length > 0) fieldErrors(new Map([...fieldErrors(), ...filed]));
    return result;
  }),
);

async function sha256(text) {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

// createClient talks to the facade with the page's optional headers (none in demo mode,
// or wherever a gateway adds the credentials).
export function createClient({ endpoint, headers }) {
  const http = new HttpLink({ uri: endpoint, headers });
  // Automatic persisted queries: a GET with the operation's hash, which caches like any
  // GET; the first time, the server asks for the text and the link sends it once.
  // Web Crypto exists only in secure contexts (HTTPS, localhost); elsewhere, plain POSTs.
  const transport = globalThis.crypto?.subtle
    ? createPersistedQueryLink({ sha256, useGETForHashedQueries: true }).concat(http)
    : http;
  return new ApolloClient({
    link: fieldErrorsLink.concat(transport),
    cache: new InMemoryCache({
      typePolicies: {
        Query: {
          fields: {
            // One list per filter; `first` and `after` only page through it.
            userGroups: relayStylePagination(['groupName', 'sourceType']),
          },
        },
      },
    }),
    defaultOptions: {
      // Partial data and its errors both reach the UI: a failed owner is one row's
      // problem, not the page's.
      watchQuery: { errorPolicy: 'all' },
      query: { errorPolicy: 'all' },
    },
  });
}
