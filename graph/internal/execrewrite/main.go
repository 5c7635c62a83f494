// Command execrewrite edits the executor gqlgen generates (graph/generated.go) for
// per-object costs gqlgen has no setting for (see graph/executor.go); `go generate
// ./graph` runs it right after gqlgen. Each rewrite names one piece of gqlgen's output,
// and generation fails when the output no longer holds it (after an upgrade), rather
// than silently keeping gqlgen's cost.
package main

import (
	"fmt"
	"os"
	"strings"
)

var rewrites = []struct{ from, to string }{
	// A goroutine per element of every list of objects; graph/executor.go walks a list in
	// order when none of its elements can wait on KooDrive.
	{"graphql.MarshalSliceConcurrently(", "marshalList("},
	// A path and two allocations per object for @defer, which graph/handler.go takes
	// out of the schema.
	{"graphql.NewDeferredGroup(ctx)", "withoutDefer(ctx)"},
	// Each object written through graphql.FieldSet's map of written keys.
	{"\treturn out\n}", "\treturn objectJSON{fields: fields, values: out.Values}\n}"},
}

const note = "// Rewritten by graph/internal/execrewrite after gqlgen: see graph/executor.go.\n"

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
	s := string(src)
	for _, r := range rewrites {
		if !strings.Contains(s, r.from) && !strings.Contains(s, r.to) {
			return fmt.Errorf("%s holds neither %q nor its rewrite: gqlgen's output changed, revisit the rewrites", path, r.from)
		}
		s = strings.ReplaceAll(s, r.from, r.to)
	}
	header, rest, ok := strings.Cut(s, "\n")
	if !ok || !strings.HasPrefix(header, "// Code generated") {
		return fmt.Errorf("%s does not start with gqlgen's header", path)
	}
	if !strings.HasPrefix(rest, note) {
		s = header + "\n" + note + rest
	}
	if s == string(src) {
		return nil
	}
	return os.WriteFile(path, []byte(s), 0o644)
}
