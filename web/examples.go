package web

// Tab is one GraphiQL tab: an operation and its variables (JSON, may be empty).
type Tab struct {
	Query     string `json:"query"`
	Variables string `json:"variables,omitempty"`
}

// ExampleTabs are the operations GraphiQL opens with: the README's examples, ready to run.
var ExampleTabs = []Tab{
	{Query: `# The caller. Run with Ctrl-Enter; the other tabs page
# through the caller's groups.
query Viewer {
  viewer { id userId name deptName }
}
`},
	{Query: `# A page of the caller's user groups with their owners.
# Each owner is read once per request; one that fails is
# null, with its own error, and the rest of the page stays.
query GroupsWithOwners {
  userGroups(first: 10) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges {
      cursor
      node { id groupId name createdTime owner { id userId name deptName } }
    }
  }
}
`},
	{Query: `# The next page: paste pageInfo.endCursor (or any edge's
# cursor) from GroupsWithOwners into the variables below.
# null starts at the beginning.
query NextPage($after: String) {
  userGroups(first: 10, after: $after) {
    pageInfo { hasNextPage endCursor }
    edges { node { groupId name owner { name } } }
  }
}
`, Variables: `{ "after": null }`},
	{Query: `# A filtered page: plain groups (sourceType 0) whose name
# matches. A cursor stays bound to the filters it was made with.
query FilteredGroups($name: String, $type: UserGroupSourceType) {
  userGroups(first: 10, groupName: $name, sourceType: $type) {
    totalCount
    nodes { groupId name owner { name } }
  }
}
`, Variables: `{ "name": "platform", "type": "GROUP" }`},
}
