import { gql } from '@apollo/client';

// The page's operations. Each is sent as a persisted query: a GET with only its
// sha256 hash once the server knows it (see client.js). web/build.sh writes their
// manifest, persisted-query-manifest.json, with Apollo's own tool.

export const VIEWER = gql`
  query ExplorerViewer {
    viewer {
      id
      name
      deptName
    }
  }
`;

export const GROUP_ROW = gql`
  fragment GroupRow on UserGroup {
    id
    groupId
    name
    createdTime
    owner {
      id
      userId
      name
      deptName
    }
  }
`;

export const GROUPS = gql`
  query ExplorerGroups($first: Int!, $after: String, $groupName: String, $sourceType: UserGroupSourceType!) {
    userGroups(first: $first, after: $after, groupName: $groupName, sourceType: $sourceType) {
      totalCount
      pageInfo {
        hasNextPage
        endCursor
      }
      edges {
        cursor
        node {
          ...GroupRow
        }
      }
    }
  }
  ${GROUP_ROW}
`;
