package graph

import (
	"github.com/99designs/gqlgen/graphql"

	"github.com/koodrive/facade/graph/model"
)

// ExecutableSchema is the schema served, its fields priced by complexity. It is the one
// constructor the package's callers use; every way of building one, this included,
// leaves @defer out (withoutDeferDirective).
func (r *Resolver) ExecutableSchema() graphql.ExecutableSchema {
	return NewExecutableSchema(Config{Resolvers: r, Complexity: complexity()})
}

// upstreamCallCost is what a field that may call KooDrive adds to an operation's
// estimated cost; every field costs 1, and a connection multiplies its selection by
// `first`, as every edge is resolved.
const upstreamCallCost = 10

// complexity prices the fields that reach KooDrive.
func complexity() ComplexityRoot {
	var c ComplexityRoot
	c.Query.Viewer = func(child int) int { return upstreamCallCost + child }
	c.Query.User = func(child int, _ string) int { return upstreamCallCost + child }
	c.Query.Node = func(child int, _ string) int { return upstreamCallCost + child }
	c.Query.UserGroups = func(child int, first *int, _, _ *string, _ *model.UserGroupSourceType) int {
		n := defaultFirst
		if first != nil && *first > 0 {
			n = *first
		}
		return upstreamCallCost + n*child
	}
	c.UserGroup.Owner = func(child int) int { return upstreamCallCost + child }
	return c
}
