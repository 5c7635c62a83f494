// One row. The owner is its own fragment: when it failed to load it is null, with the
// error at its path, and the row still renders.
import { graphql } from 'react-relay';

export const groupRowFragment = graphql`
  fragment GroupRow_group on UserGroup {
    groupId
    name
    createdTime
    owner {
      ...Owner_user
    }
  }
`;
