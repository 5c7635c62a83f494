// One row. The owner is its own fragment: when it failed to load it is null, with the
// error at its path, and the row still renders. @refetchable: Relay refetches the row
// through Query.node, which finds the group again in the caller's list.
import { graphql } from 'react-relay';

export const groupRowFragment = graphql`
  fragment GroupRow_group on UserGroup @refetchable(queryName: "GroupRowRefetchQuery") {
    groupId
    name
    createdTime
    owner {
      ...Owner_user
    }
  }
`;
