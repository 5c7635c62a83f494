package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
)

// A userGroups field that selects owner starts its page's owner calls as soon as the
// page arrives (usergroups.go, loaders.go) rather than when gqlgen reaches each owner
// field; it must know from the selection, before any edge exists, that owners are read.

// ownersSelected reports whether the userGroups field being resolved selects
// owner on its edges' nodes or on its nodes, fragments included.
func ownersSelected(ctx context.Context) bool {
	if !graphql.HasOperationContext(ctx) || graphql.GetFieldContext(ctx) == nil {
		return false
	}
	op := graphql.GetOperationContext(ctx)
	hasOwner := func(groups []graphql.CollectedField) bool {
		for _, g := range groups {
			for _, f := range graphql.CollectFields(op, g.Selections, []string{"UserGroup", "Node"}) {
				if f.Name == "owner" {
					return true
				}
			}
		}
		return false
	}
	for _, f := range graphql.CollectFieldsCtx(ctx, []string{"UserGroupConnection"}) {
		switch f.Name {
		case "nodes":
			if hasOwner([]graphql.CollectedField{f}) {
				return true
			}
		case "edges":
			var nodes []graphql.CollectedField
			for _, e := range graphql.CollectFields(op, f.Selections, []string{"UserGroupEdge"}) {
				if e.Name == "node" {
					nodes = append(nodes, e)
				}
			}
			if hasOwner(nodes) {
				return true
			}
		}
	}
	return false
}
