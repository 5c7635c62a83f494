import { NetworkStatus, useQuery, useReactiveVar } from '@apollo/client';
import { useState } from 'react';
import { fieldError, fieldErrors } from './client.js';
import { GROUPS } from './operations.js';

const PAGE_SIZE = 20;
const dateFormat = new Intl.DateTimeFormat('en', { dateStyle: 'medium', timeZone: 'UTC' });

// GroupList shows one filter's groups, a page at a time, merged by the cache's
// relayStylePagination policy.
export function GroupList({ groupName, sourceType }) {
  const { data, error, networkStatus, fetchMore } = useQuery(GROUPS, {
    variables: { first: PAGE_SIZE, groupName: groupName || null, sourceType },
    notifyOnNetworkStatusChange: true,
  });
  const errors = useReactiveVar(fieldErrors);
  const [moreError, setMoreError] = useState(null);
  const groups = data?.userGroups;

  if (!groups) {
    if (error) return <ErrorBanner error={error} />;
    return <p className="status" role="status">Loading groups…</p>;
  }
  const loadingMore = networkStatus === NetworkStatus.fetchMore;
  const loadMore = () => {
    setMoreError(null);
    fetchMore({ variables: { after: groups.pageInfo.endCursor } }).catch(setMoreError);
  };
  const noun = sourceType === 'GROUP' ? 'groups' : 'user groups';

  return (
    <section aria-label="Groups">
      <p className="count" data-testid="total">
        Showing {groups.edges.length} of {groups.totalCount} {noun}
      </p>
      {error?.networkError && <ErrorBanner error={error} />}
      {groups.edges.length === 0 ? (
        <p className="status">No {noun} match.</p>
      ) : (
        <table className="groups">
          <thead>
            <tr>
              <th scope="col">Group</th>
              <th scope="col">Owner</th>
              <th scope="col">Created</th>
            </tr>
          </thead>
          <tbody>
            {groups.edges.map(({ node }) => (
              <GroupRow key={node.id} group={node} ownerError={fieldError(errors, node, 'owner')} />
            ))}
          </tbody>
        </table>
      )}
      <footer className="more">
        {groups.pageInfo.hasNextPage ? (
          <button type="button" onClick={loadMore} disabled={loadingMore} data-testid="load-more">
            {loadingMore ? 'Loading…' : 'Load more'}
          </button>
        ) : (
          groups.edges.length > 0 && <span data-testid="end-of-list">All {noun} loaded.</span>
        )}
        {moreError && <ErrorBanner error={moreError} />}
      </footer>
    </section>
  );
}

function GroupRow({ group, ownerError }) {
  const { owner } = group;
  return (
    <tr data-testid="group-row" data-group-id={group.groupId}>
      <td>
        <div className="name">{group.name}</div>
        <div className="muted">{group.groupId}</div>
      </td>
      <td data-testid="owner">
        {owner ? (
          <>
            <div>{owner.name ?? owner.userId}</div>
            {owner.deptName && <div className="muted">{owner.deptName}</div>}
          </>
        ) : (
          <div data-testid="owner-error" role="note">
            <span className="field-error">Owner unavailable</span>
            <div className="muted">{ownerError ? describe(ownerError) : 'not returned'}</div>
          </div>
        )}
      </td>
      <td className="muted">{group.createdTime ? dateFormat.format(new Date(group.createdTime)) : '—'}</td>
    </tr>
  );
}

function describe(error) {
  const code = error.extensions?.code;
  return code ? `${error.message} (${code})` : error.message;
}

export function ErrorBanner({ error }) {
  const messages = error.graphQLErrors?.length ? error.graphQLErrors.map(describe) : [error.message];
  return (
    <div className="banner" role="alert" data-testid="error">
      {messages.map((m, i) => (
        <div key={i}>{m}</div>
      ))}
    </div>
  );
}
