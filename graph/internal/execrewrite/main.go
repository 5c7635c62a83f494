// Command execrewrite edits the executor gqlgen generates (graph/generated.go) for
// costs gqlgen has no setting for (see graph/executor.go); `go generate ./graph` runs
// it right after gqlgen. It finds each piece it rewrites in the syntax tree, counts
// them, and fails generation when gqlgen's output no longer has the shape it expects
// (after an upgrade), rather than silently keeping gqlgen's cost or rewriting more.
package main

import (
	"bytes"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"slices"
	"strings"
)

const note = "// Rewritten by graph/internal/execrewrite after gqlgen: see graph/executor.go.\n"

// The rewrites. Calls are matched as selector expressions (package.Func).
const (
	// A goroutine per element of every list of objects: graph/executor.go walks a list
	// in order when none of its elements can wait on KooDrive.
	sliceCall  = "graphql.MarshalSliceConcurrently"
	sliceTo    = "marshalList"
	fieldSet   = "graphql.NewFieldSet" // one per object marshaler
	deferCall  = "graphql.NewDeferredGroup"
	deferTo    = "withoutDefer(ctx, fields)"
	objectTo   = "return objectJSON{fields: fields, values: out.Values}"
	schemaCall = "gqlparser.MustLoadSchema"
	schemaVar  = "parsedSchema"
	schemaWrap = "withoutDeferDirective"
	objectFrom = "return out"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: execrewrite generated.go")
		os.Exit(2)
	}
	if err := rewrite(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "execrewrite:", err)
		os.Exit(1)
	}
}

func rewrite(path string) error {
	src, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	out, err := rewriteSource(src)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if bytes.Equal(out, src) {
		return nil
	}
	return os.WriteFile(path, out, 0o644)
}

// edit replaces src[from:to].
type edit struct {
	from, to int
	text     string
}

// rewriteSource rewrites gqlgen's output, or checks an output rewritten before (it is
// idempotent).
func rewriteSource(src []byte) ([]byte, error) {
	header, _, ok := bytes.Cut(src, []byte("\n"))
	if !ok || !bytes.HasPrefix(header, []byte("// Code generated")) {
		return nil, errors.New("does not start with gqlgen's header")
	}
	fset := token.NewFileSet()
	file, err := parser.ParseFile(fset, "generated.go", src, 0)
	if err != nil {
		return nil, err
	}
	offset := func(p token.Pos) int { return fset.Position(p).Offset }
	text := func(n ast.Node) string { return string(src[offset(n.Pos()):offset(n.End())]) }
	var edits []edit

	// 1. Object marshalers: a function that builds a field set for its collected fields,
	// makes a deferred group, and returns the field set.
	fieldSets, objects, objectDefers := 0, 0, 0
	ast.Inspect(file, func(n ast.Node) bool {
		if call, ok := n.(*ast.CallExpr); ok && text(call.Fun) == fieldSet {
			fieldSets++
		}
		return true
	})
	for _, decl := range file.Decls {
		fn, ok := decl.(*ast.FuncDecl)
		if !ok || fn.Body == nil || !calls(fn.Body, text, fieldSet) {
			continue
		}
		last, ok := fn.Body.List[len(fn.Body.List)-1].(*ast.ReturnStmt)
		if !ok {
			return nil, fmt.Errorf("object marshaler %s does not end with a return", fn.Name.Name)
		}
		switch text(last) {
		case objectFrom:
			edits = append(edits, edit{offset(last.Pos()), offset(last.End()), objectTo})
		case objectTo:
		default:
			return nil, fmt.Errorf("object marshaler %s ends with %q, not %q", fn.Name.Name, text(last), objectFrom)
		}
		defers := 0
		ast.Inspect(fn.Body, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			switch {
			case !ok:
			case text(call.Fun) == deferCall:
				defers++
				objectDefers++
				edits = append(edits, edit{offset(call.Pos()), offset(call.End()), deferTo})
			case text(call) == deferTo:
				defers++
			}
			return true
		})
		if defers != 1 {
			return nil, fmt.Errorf("object marshaler %s makes %d deferred groups, want 1", fn.Name.Name, defers)
		}
		objects++
	}
	if fieldSets == 0 || objects != fieldSets {
		return nil, fmt.Errorf("%d calls of %s but %d object marshalers: gqlgen's output changed, revisit the rewrites", fieldSets, fieldSet, objects)
	}

	// 2. Every list marshalled concurrently, and no other deferred group.
	lists, allDefers := 0, 0
	ast.Inspect(file, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		switch {
		case !ok:
		case text(call.Fun) == sliceCall:
			lists++
			edits = append(edits, edit{offset(call.Fun.Pos()), offset(call.Fun.End()), sliceTo})
		case text(call.Fun) == sliceTo:
			lists++
		case text(call.Fun) == deferCall:
			allDefers++
		}
		return true
	})
	if lists == 0 {
		return nil, fmt.Errorf("no call of %s: gqlgen's output changed, revisit the rewrites", sliceCall)
	}
	if allDefers != objectDefers {
		return nil, fmt.Errorf("%s called outside the object marshalers", deferCall)
	}

	// 3. The schema every executable schema defaults to, loaded without @defer.
	schemas := 0
	for _, decl := range file.Decls {
		gen, ok := decl.(*ast.GenDecl)
		if !ok || gen.Tok != token.VAR {
			continue
		}
		for _, spec := range gen.Specs {
			vs := spec.(*ast.ValueSpec)
			if len(vs.Names) != 1 || vs.Names[0].Name != schemaVar || len(vs.Values) != 1 {
				continue
			}
			call, ok := vs.Values[0].(*ast.CallExpr)
			switch {
			case ok && text(call.Fun) == schemaCall:
				edits = append(edits, edit{offset(call.Pos()), offset(call.End()), schemaWrap + "(" + text(call) + ")"})
			case ok && text(call.Fun) == schemaWrap:
			default:
				return nil, fmt.Errorf("%s is not %s(...): gqlgen's output changed", schemaVar, schemaCall)
			}
			schemas++
		}
	}
	if schemas != 1 {
		return nil, fmt.Errorf("%d declarations of %s, want 1", schemas, schemaVar)
	}

	slices.SortFunc(edits, func(a, b edit) int { return b.from - a.from })
	out := slices.Clone(src)
	for _, e := range edits {
		out = slices.Concat(out[:e.from], []byte(e.text), out[e.to:])
	}
	if _, rest, _ := bytes.Cut(out, []byte("\n")); !bytes.HasPrefix(rest, []byte(note)) {
		out = slices.Concat(header, []byte("\n"+note), rest)
	}
	return out, nil
}

// calls reports whether body calls fn (as "pkg.Func").
func calls(body ast.Node, text func(ast.Node) string, fn string) bool {
	found := false
	ast.Inspect(body, func(n ast.Node) bool {
		if call, ok := n.(*ast.CallExpr); ok && strings.TrimSpace(text(call.Fun)) == fn {
			found = true
		}
		return !found
	})
	return found
}
