package schemacheck

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// web is where node finds @graphql-inspector/core (web/package.json).
const web = "../../../web"

// inspectorVerdict runs @graphql-inspector/core (web/tools/schema-diff.mjs) on two
// schemas and returns the criticality of each change it finds, by level.
func inspectorVerdict(t *testing.T, released, current string) map[string][]string {
	t.Helper()
	dir := t.TempDir()
	files := []string{filepath.Join(dir, "released.graphqls"), filepath.Join(dir, "current.graphqls")}
	for i, sdl := range []string{released, current} {
		if err := os.WriteFile(files[i], []byte(sdl), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command("node", append([]string{"tools/schema-diff.mjs"}, files...)...)
	cmd.Dir = web
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("graphql-inspector: %v\n%s", err, out)
	}
	levels := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if line == "" {
			continue
		}
		var change struct{ Criticality, Message string }
		if err := json.Unmarshal([]byte(line), &change); err != nil {
			t.Fatalf("graphql-inspector printed %q: %v", line, err)
		}
		levels[change.Criticality] = append(levels[change.Criticality], change.Message)
	}
	return levels
}

// TestVerdictsAgreeWithGraphQLInspector: on every sample, and on the repository's own
// schema, the check fails exactly when @graphql-inspector/core finds a breaking change.
func TestVerdictsAgreeWithGraphQLInspector(t *testing.T) {
	_, err := exec.LookPath("node")
	if err == nil {
		_, err = os.Stat(filepath.Join(web, "node_modules", "@graphql-inspector", "core"))
	}
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI must run this test: %v (cd web && npm ci)", err)
		}
		t.Skipf("needs node and web/node_modules: %v", err)
	}
	cases := map[string]struct{ released, current string }{
		"additive":  {released, additiveSample},
		"dangerous": {released, dangerousSample},
	}
	for name, change := range breakingSamples {
		cases[name] = struct{ released, current string }{released, strings.Replace(released, change.from, change.to, 1)}
	}
	read := func(name string) string {
		b, err := os.ReadFile("../../../" + name)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	cases["the repository's schema"] = struct{ released, current string }{read("schema.released.graphqls"), read("schema.graphqls")}

	for name, c := range cases {
		_, ok, err := Check(c.current, c.released, "")
		if err != nil {
			t.Fatal(err)
		}
		theirs := inspectorVerdict(t, c.released, c.current)
		if ok != (len(theirs["BREAKING"]) == 0) {
			t.Errorf("%s: our check passes: %v; graphql-inspector's breaking changes: %q", name, ok, theirs["BREAKING"])
		}
	}
	if theirs := inspectorVerdict(t, released, dangerousSample); len(theirs["DANGEROUS"]) == 0 {
		t.Errorf("graphql-inspector lists no dangerous change for an enum value added: %v", theirs)
	}
}
