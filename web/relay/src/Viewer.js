// The /explorer page's operations as a Relay app writes them. relay-compiler checks
// them against ../schema.graphqls (validate.sh); no Relay runtime is installed, and
// the generated artifacts go to the ignored __generated__/.
import { graphql } from 'react-relay';

export const viewerQuery = graphql`
  query ViewerQuery {
    viewer {
      id
      name
      deptName
    }
  }
`;
