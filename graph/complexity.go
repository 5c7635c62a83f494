package graph

import (
	"encoding/json"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/koodrive/facade/graph/model"
	"github.com/koodrive/facade/koodrive"
)

// ExecutableSchema is the schema served, its fields priced by complexity. It is the one
// constructor the package's callers use; every way of building one, this included,
// leaves @defer out (withoutDeferDirective).
func (r *Resolver) ExecutableSchema() graphql.ExecutableSchema {
	return NewExecutableSchema(Config{Resolvers: r, Complexity: complexity()})
}

// Schema is the schema served, as parsed (without @defer), for tools that validate
// operations against it.
func Schema() *ast.Schema { return parsedSchema }

// upstreamCallCost is what a field that may call KooDrive adds to an operation's
// estimated cost; every field costs 1, and a connection multiplies its selection by
// `first`, as every edge is resolved.
const upstreamCallCost = 10

// complexity prices the fields that reach KooDrive.
func complexity() ComplexityRoot {
	var c ComplexityRoot
	c.Query.Viewer = func(child int) int { return upstreamCallCost + child }
	c.Query.User = func(child int, _ string) int { return upstreamCallCost + child }
	// A user is one call; a user group is looked for in up to the page bound's pages.
	c.Query.Node = func(child int, _ string) int { return upstreamCallCost*defaultMaxUpstreamPages + child }
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

// MaxCalls is the most KooDrive calls the operation can make: one for each field with a
// resolver (viewer, user, owner), for node the pages a user group's refetch may read, and
// for userGroups every upstream page it may read, its selection counted once per edge of `first`. Coalescing and caching make the
// actual count lower; introspection makes none. The rate limit charges this before
// execution and refunds the difference after.
func (r *Resolver) MaxCalls(oc *graphql.OperationContext) int {
	if oc == nil || oc.Operation == nil {
		return 0
	}
	return r.maxCalls(oc, operationType(oc), oc.Operation.SelectionSet, 1)
}

func operationType(oc *graphql.OperationContext) string {
	switch oc.Operation.Operation {
	case ast.Mutation:
		return "Mutation"
	case ast.Subscription:
		return "Subscription"
	}
	return "Query"
}

func (r *Resolver) maxCalls(oc *graphql.OperationContext, typeName string, sel ast.SelectionSet, times int) int {
	def := parsedSchema.Types[typeName]
	if def == nil {
		return 0
	}
	if def.IsAbstractType() { // the most any of its types can make
		most := 0
		for _, t := range parsedSchema.GetPossibleTypes(def) {
			most = max(most, r.maxCalls(oc, t.Name, sel, times))
		}
		return most
	}
	calls := 0
	for _, f := range graphql.CollectFields(oc, sel, append([]string{typeName}, def.Interfaces...)) {
		if f.Definition == nil || strings.HasPrefix(f.Name, "__") {
			continue
		}
		each := times
		switch coord := coordinate(typeName, f.Name); {
		case coord == "query.node": // a user group's refetch reads up to the page bound
			calls += times * r.opts.MaxUpstreamPages
		case coord == "query.usergroups":
			calls += times * r.opts.MaxUpstreamPages
			each = times * firstOf(f.ArgumentMap(oc.Variables))
		case r.resolved[coord]:
			calls += times
		}
		calls += r.maxCalls(oc, f.Definition.Type.Name(), f.Selections, each)
	}
	return calls
}

// firstOf is a userGroups field's page size, as the resolver reads it (a literal, or a
// variable as JSON decoded it); a value the resolver refuses costs no more than the most.
func firstOf(args map[string]any) int {
	var n int64
	switch v := args["first"].(type) {
	case int64:
		n = v
	case int:
		n = int64(v)
	case json.Number:
		n, _ = v.Int64()
	case float64:
		n = int64(v)
	default:
		return defaultFirst
	}
	if n < 1 || n > koodrive.MaxPageSize {
		return koodrive.MaxPageSize
	}
	return int(n)
}
