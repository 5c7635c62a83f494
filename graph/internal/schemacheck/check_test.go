package schemacheck

import (
	"os"
	"strings"
	"testing"
)

const released = `
type Query { user(id: ID!): User  users(first: Int = 20): [User!]!  search(text: String): [Hit] }
type User implements Node { id: ID!  name: String  role: Role!  mobile: String }
interface Node { id: ID! }
enum Role { ADMIN MEMBER }
union Hit = User
input Filter { name: String }
`

func check(t *testing.T, current, acks string) (string, bool) {
	t.Helper()
	report, ok, err := Check(current, released, acks)
	if err != nil {
		t.Fatal(err)
	}
	return report, ok
}

// breakingSamples: one of each kind of breaking change, made to the released schema.
var breakingSamples = map[string]struct{ from, to, id string }{
	"a field removed":           {"  mobile: String }", " }", "FIELD_REMOVED User.mobile"},
	"an output made nullable":   {"role: Role!", "role: Role", "FIELD_TYPE_CHANGED User.role: Role! → Role"},
	"a field's type changed":    {"name: String", "name: Int", "FIELD_TYPE_CHANGED User.name: String → Int"},
	"a required argument added": {"search(text: String)", "search(text: String, lang: String!)", "REQUIRED_ARGUMENT_ADDED Query.search(lang)"},
	"an argument made required": {"search(text: String)", "search(text: String!)", "ARGUMENT_TYPE_CHANGED Query.search(text): String → String!"},
	"an enum value removed":     {"enum Role { ADMIN MEMBER }", "enum Role { ADMIN }", "ENUM_VALUE_REMOVED Role.MEMBER"},
	"a type removed":            {"input Filter { name: String }", "", "TYPE_REMOVED Filter"},
	"an interface dropped":      {"type User implements Node {", "type User {", "INTERFACE_REMOVED User implements Node"},
}

func TestBreakingChangesFail(t *testing.T) {
	for name, change := range breakingSamples {
		current := strings.Replace(released, change.from, change.to, 1)
		report, ok := check(t, current, "")
		if ok || !strings.Contains(report, "BREAKING: "+change.id) {
			t.Errorf("%s: ok %v, report:\n%s", name, ok, report)
		}
		if report, ok := check(t, current, change.id+" — every shipped client was updated in 2.4"); !ok || !strings.Contains(report, "acknowledged: "+change.id) {
			t.Errorf("%s, acknowledged: ok %v, report:\n%s", name, ok, report)
		}
		if _, ok := check(t, current, change.id+" — "); ok {
			t.Errorf("%s: an acknowledgement without a reason was accepted", name)
		}
	}
}

// additiveSample adds fields, an optional argument, an input field and a type.
var additiveSample = strings.NewReplacer(
	"mobile: String }", "mobile: String  email: String  deptName(lang: String = \"en\"): String }",
	"role: Role!", "role: Role!",
	"users(first: Int = 20)", "users(first: Int = 20, after: String)",
	"input Filter { name: String }", "input Filter { name: String  dept: String }\ntype Group { id: ID! }",
).Replace(released)

// dangerousSample adds an enum value: a client's exhaustive switch may not know it.
var dangerousSample = strings.Replace(released, "enum Role { ADMIN MEMBER }", "enum Role { ADMIN MEMBER GUEST }", 1)

func TestAdditiveChangesPass(t *testing.T) {
	if report, ok := check(t, additiveSample, ""); !ok || report != "" {
		t.Fatalf("additive change: ok %v, report:\n%s", ok, report)
	}
	// Dangerous, not breaking: listed, and the check passes.
	if report, ok := check(t, dangerousSample, ""); !ok || !strings.Contains(report, "dangerous: ENUM_VALUE_ADDED Role.GUEST") {
		t.Fatalf("dangerous change: ok %v, report:\n%s", ok, report)
	}
}

// TestTheSchemaAgainstItsRelease is what CI runs: the repository's schema against the
// released one, with the acknowledgements.
func TestTheSchemaAgainstItsRelease(t *testing.T) {
	read := func(name string) string {
		b, err := os.ReadFile("../../../" + name)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	report, ok, err := Check(read("schema.graphqls"), read("schema.released.graphqls"), read("schema.acknowledged"))
	if err != nil || !ok {
		t.Fatalf("%v\n%s", err, report)
	}
}
