package graph

import (
	"context"
	"reflect"
	"strings"
	"sync"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
)

// Two decisions are made from what an operation selects, before gqlgen walks it: a
// userGroups field that reads owners starts its page's owner calls with the page, and a
// list whose elements can no longer wait on KooDrive is walked in order (executor.go).
// Both read the selection as the executor will: fragments, type conditions and
// @skip/@include applied.

// ownerField is the one field whose calls a page prefetches.
const ownerField = "usergroup.owner"

// resolvedFields are the fields gqlgen resolves through a resolver method, as lowercase
// "type.field": the only fields that can call KooDrive (the models are plain data). They
// are read off the generated ResolverRoot, so a field given a resolver is counted here
// without anyone remembering to.
func resolvedFields() map[string]bool {
	out := map[string]bool{}
	root := reflect.TypeFor[ResolverRoot]()
	for i := range root.NumMethod() {
		object := root.Method(i) // e.g. UserGroup() UserGroupResolver
		resolver := object.Type.Out(0)
		for j := range resolver.NumMethod() {
			out[coordinate(object.Name, resolver.Method(j).Name)] = true // e.g. Owner
		}
	}
	return out
}

// coordinate names a field of a type; lowercase, as Go method names capitalise what the
// schema does not (userId, UserID).
func coordinate(typeName, field string) string {
	return strings.ToLower(typeName + "." + field)
}

// selects calls visit for every field that sel selects on a value of typeName, and for
// every field below those; it stops at the first visit that returns true, and says
// whether one did (or whether it met a type it does not know).
func selects(op *graphql.OperationContext, typeName string, sel ast.SelectionSet, visit func(coord string) bool) bool {
	def := parsedSchema.Types[typeName]
	if def == nil {
		return true // a type this schema does not have: assume the worst
	}
	if def.IsAbstractType() {
		for _, t := range parsedSchema.GetPossibleTypes(def) {
			if selects(op, t.Name, sel, visit) {
				return true
			}
		}
		return false
	}
	for _, f := range graphql.CollectFields(op, sel, append([]string{typeName}, def.Interfaces...)) {
		if visit(coordinate(typeName, f.Name)) {
			return true
		}
		if len(f.Selections) > 0 && f.Definition != nil && selects(op, f.Definition.Type.Name(), f.Selections, visit) {
			return true
		}
	}
	return false
}

// ownersSelected reports whether the userGroups field being resolved reads its groups'
// owners.
func ownersSelected(ctx context.Context) bool {
	fc := graphql.GetFieldContext(ctx)
	if !graphql.HasOperationContext(ctx) || fc == nil || fc.Field.Definition == nil {
		return false
	}
	return selects(graphql.GetOperationContext(ctx), fc.Field.Definition.Type.Name(), fc.Field.Selections,
		func(coord string) bool { return coord == ownerField })
}

// prefetched records, per request, which resolved fields a list's elements no longer
// wait for, by the object the list belongs to (a connection): what its resolver fetched
// and awaited before returning it.
type prefetched struct {
	mu     sync.Mutex
	fields map[any][]string
}

func (p *prefetched) add(parent any, coord string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.fields == nil {
		p.fields = map[any][]string{}
	}
	p.fields[parent] = append(p.fields[parent], coord)
}

func (p *prefetched) has(parent any, coord string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.fields[parent] {
		if c == coord {
			return true
		}
	}
	return false
}

// listMayWait says whether an element of the list being marshalled may wait on
// KooDrive: whether its selection holds a resolved field that the list's owner did not
// prefetch. Introspection never waits; anything this cannot tell is taken to wait.
func listMayWait(ctx context.Context) bool {
	fc := graphql.GetFieldContext(ctx)
	switch {
	case fc == nil:
		return true
	case strings.HasPrefix(fc.Object, "__"):
		return false
	}
	l, ok := ctx.Value(loadersKey{}).(*loaders)
	if !ok || fc.Field.Field == nil || fc.Field.Definition == nil || !graphql.HasOperationContext(ctx) {
		return true
	}
	var parent any
	if fc.Parent != nil {
		parent = fc.Parent.Result
	}
	return selects(graphql.GetOperationContext(ctx), fc.Field.Definition.Type.Name(), fc.Field.Selections, func(coord string) bool {
		return l.resolved[coord] && (parent == nil || !l.prefetched.has(parent, coord))
	})
}
