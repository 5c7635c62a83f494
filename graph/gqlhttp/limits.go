package gqlhttp

import (
	"context"
	"fmt"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/koodrive/facade/graph"
)

// Limits bound what one operation may ask for; zero values take the defaults.
type Limits struct {
	MaxTokens     int // parser tokens in the query text
	MaxDepth      int // nesting of fields, introspection excluded
	MaxAliases    int // aliased fields, fragments expanded
	MaxRootFields int // top-level fields, fragments expanded
	MaxComplexity int // estimated cost, as graph prices fields (graph/complexity.go)
}

// DefaultLimits fit every query this schema needs (its deepest path is 5 fields) with
// room to spare, and keep the worst case to a few full pages of owners.
var DefaultLimits = Limits{MaxTokens: 2000, MaxDepth: 10, MaxAliases: 30, MaxRootFields: 10, MaxComplexity: 5000}

func withDefaults(l Limits) Limits {
	d := DefaultLimits
	for _, p := range []struct{ v, def *int }{{&l.MaxTokens, &d.MaxTokens}, {&l.MaxDepth, &d.MaxDepth}, {&l.MaxAliases, &d.MaxAliases}, {&l.MaxRootFields, &d.MaxRootFields}, {&l.MaxComplexity, &d.MaxComplexity}} {
		if *p.v <= 0 {
			*p.v = *p.def
		}
	}
	return l
}

// shapeLimit refuses operations too deep, too wide at the root or with too many
// aliases. It walks the operation with fragments expanded, within a visit budget, so a
// fragment bomb is refused instead of walked.
type shapeLimit struct{ limits Limits }

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = shapeLimit{}

func (shapeLimit) ExtensionName() string                   { return "ShapeLimit" }
func (shapeLimit) Validate(graphql.ExecutableSchema) error { return nil }
func (l shapeLimit) MutateOperationContext(_ context.Context, rc *graphql.OperationContext) *gqlerror.Error {
	if rc.Operation == nil {
		return nil
	}
	w := shapeWalker{budget: 100 * (l.limits.MaxAliases + l.limits.MaxRootFields + 100)}
	roots := w.count(rc.Operation.SelectionSet)
	switch {
	case w.overBudget:
		return limitError(graph.CodeQueryTooLarge, "the operation expands to too many fields")
	case roots > l.limits.MaxRootFields:
		return limitError(graph.CodeTooManyRootFields, fmt.Sprintf("the operation has %d root fields; at most %d are allowed", roots, l.limits.MaxRootFields))
	}
	w.walk(rc.Operation.SelectionSet, 1, false)
	switch {
	case w.overBudget:
		return limitError(graph.CodeQueryTooLarge, "the operation expands to too many fields")
	case w.maxDepth > l.limits.MaxDepth:
		return limitError(graph.CodeQueryTooDeep, fmt.Sprintf("the operation nests %d fields deep; at most %d are allowed", w.maxDepth, l.limits.MaxDepth))
	case w.aliases > l.limits.MaxAliases:
		return limitError(graph.CodeTooManyAliases, fmt.Sprintf("the operation has %d aliases; at most %d are allowed", w.aliases, l.limits.MaxAliases))
	}
	return nil
}

func limitError(code, msg string) *gqlerror.Error {
	return &gqlerror.Error{Message: msg, Extensions: map[string]any{"code": code}}
}

type shapeWalker struct {
	budget     int // field visits left; fragments are expanded, so this bounds the walk
	overBudget bool
	maxDepth   int
	aliases    int
}

// fields calls visit for each field of set, fragments expanded, until the budget ends.
func (w *shapeWalker) fields(set ast.SelectionSet, visit func(*ast.Field)) {
	for _, sel := range set {
		if w.budget <= 0 {
			w.overBudget = true
			return
		}
		switch s := sel.(type) {
		case *ast.Field:
			w.budget--
			visit(s)
		case *ast.InlineFragment:
			w.fields(s.SelectionSet, visit)
		case *ast.FragmentSpread:
			if s.Definition != nil {
				w.fields(s.Definition.SelectionSet, visit)
			}
		}
	}
}

func (w *shapeWalker) count(set ast.SelectionSet) int {
	n := 0
	w.fields(set, func(*ast.Field) { n++ })
	return n
}

// walk counts depth and aliases outside introspection (it has its own switch); it
// walks introspection too, within the same budget.
func (w *shapeWalker) walk(set ast.SelectionSet, depth int, introspection bool) {
	w.fields(set, func(f *ast.Field) {
		introspection := introspection || f.Name == "__schema" || f.Name == "__type"
		if !introspection {
			if f.Alias != "" && f.Alias != f.Name {
				w.aliases++
			}
			w.maxDepth = max(w.maxDepth, depth)
		}
		w.walk(f.SelectionSet, depth+1, introspection)
	})
}
