package graph

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql/errcode"
)

// catalog reads the Code constants of errors.go: the catalog as written.
func catalog(t *testing.T) []string {
	t.Helper()
	file, err := parser.ParseFile(token.NewFileSet(), "errors.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var codes []string
	ast.Inspect(file, func(n ast.Node) bool {
		spec, ok := n.(*ast.ValueSpec)
		if !ok || len(spec.Values) != 1 || !strings.HasPrefix(spec.Names[0].Name, "Code") {
			return true
		}
		lit, ok := spec.Values[0].(*ast.BasicLit)
		if !ok {
			t.Fatalf("%s is not a string literal", spec.Names[0].Name)
		}
		code, _ := strconv.Unquote(lit.Value)
		codes = append(codes, code)
		return true
	})
	slices.Sort(codes)
	return codes
}

// TestREADMEErrorTableIsTheCatalog: the README's error table lists every
// extensions.code of the catalog, and no other.
func TestREADMEErrorTableIsTheCatalog(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, table, ok := strings.Cut(string(readme), "### Errors")
	if !ok {
		t.Fatal("README has no ### Errors section")
	}
	table, _, _ = strings.Cut(table, "\n\n#") // up to the next heading
	var listed []string
	for _, m := range regexp.MustCompile("(?m)^\\| `([A-Z_]+)` \\|").FindAllStringSubmatch(table, -1) {
		listed = append(listed, m[1])
	}
	slices.Sort(listed)
	if want := catalog(t); !slices.Equal(listed, want) {
		t.Fatalf("README's error table lists %v;\nthe catalog (graph/errors.go) is %v", listed, want)
	}
}

// TestGqlgensCodesAreItsOwn: the catalog spells gqlgen's codes as gqlgen does.
func TestGqlgensCodesAreItsOwn(t *testing.T) {
	if CodeParseFailed != errcode.ParseFailed || CodeValidationFailed != errcode.ValidationFailed {
		t.Fatalf("gqlgen's codes are %s and %s", errcode.ParseFailed, errcode.ValidationFailed)
	}
}
