// A group's owner. @refetchable makes Relay generate a refetch through Query.node, the
// Node interface: a row can retry just its owner after a failure.
import { graphql } from 'react-relay';

export const ownerFragment = graphql`
  fragment Owner_user on User @refetchable(queryName: "OwnerRefetchQuery") {
    id
    userId
    name
    deptName
  }
`;
