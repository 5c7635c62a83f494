// The caller's groups: one filter's connection, paged with usePaginationFragment.
// @connection keys the list by its filters, so each filter keeps its own list, as
// relayStylePagination(['groupName', 'sourceType']) does in the Apollo page.
import { graphql } from 'react-relay';

export const groupListQuery = graphql`
  query GroupListQuery($count: Int!, $groupName: String, $sourceType: UserGroupSourceType!) {
    ...GroupList_query @arguments(count: $count, groupName: $groupName, sourceType: $sourceType)
  }
`;

export const groupListFragment = graphql`
  fragment GroupList_query on Query
  @argumentDefinitions(
    count: { type: "Int", defaultValue: 20 }
    cursor: { type: "String" }
    groupName: { type: "String" }
    sourceType: { type: "UserGroupSourceType", defaultValue: USER_GROUP }
  )
  @refetchable(queryName: "GroupListPaginationQuery") {
    userGroups(first: $count, after: $cursor, groupName: $groupName, sourceType: $sourceType)
      @connection(key: "GroupList_userGroups", filters: ["groupName", "sourceType"]) {
      totalCount
      edges {
        node {
          id
          ...GroupRow_group
        }
      }
    }
  }
`;
