// Package schemacheck compares a GraphQL schema with the released one and sorts the
// differences: breaking (a shipped client's operation may stop working), dangerous (it
// keeps working but may behave differently) and safe. It reads gqlparser's AST.
package schemacheck

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
)

// Change is one difference; ID names it for an acknowledgement ("FIELD_REMOVED User.mobile").
type Change struct {
	ID        string
	Breaking  bool
	Dangerous bool
}

func breaking(kind, where string) Change  { return Change{ID: kind + " " + where, Breaking: true} }
func dangerous(kind, where string) Change { return Change{ID: kind + " " + where, Dangerous: true} }

// Compare lists what changed from old to new, in a stable order. Types the GraphQL
// prelude defines (and introspection's) are not compared.
func Compare(old, new *ast.Schema) []Change {
	var out []Change
	for _, name := range sortedKeys(old.Types) {
		o := old.Types[name]
		if o.BuiltIn {
			continue
		}
		n, ok := new.Types[name]
		switch {
		case !ok:
			out = append(out, breaking("TYPE_REMOVED", name))
		case n.Kind != o.Kind:
			out = append(out, breaking("TYPE_KIND_CHANGED", name))
		default:
			out = append(out, compareType(o, n)...)
		}
	}
	return out
}

func compareType(o, n *ast.Definition) []Change {
	var out []Change
	switch o.Kind {
	case ast.Enum:
		for _, v := range o.EnumValues {
			if n.EnumValues.ForName(v.Name) == nil {
				out = append(out, breaking("ENUM_VALUE_REMOVED", o.Name+"."+v.Name))
			}
		}
		for _, v := range n.EnumValues {
			if o.EnumValues.ForName(v.Name) == nil {
				out = append(out, dangerous("ENUM_VALUE_ADDED", o.Name+"."+v.Name)) // an exhaustive switch meets it
			}
		}
	case ast.Union:
		for _, t := range o.Types {
			if !slices.Contains(n.Types, t) {
				out = append(out, breaking("UNION_MEMBER_REMOVED", o.Name+"."+t))
			}
		}
		for _, t := range n.Types {
			if !slices.Contains(o.Types, t) {
				out = append(out, dangerous("UNION_MEMBER_ADDED", o.Name+"."+t))
			}
		}
	case ast.Object, ast.Interface:
		for _, i := range o.Interfaces {
			if !slices.Contains(n.Interfaces, i) {
				out = append(out, breaking("INTERFACE_REMOVED", o.Name+" implements "+i))
			}
		}
		for _, f := range o.Fields {
			if len(f.Name) > 1 && f.Name[:2] == "__" {
				continue
			}
			nf := n.Fields.ForName(f.Name)
			if nf == nil {
				out = append(out, breaking("FIELD_REMOVED", o.Name+"."+f.Name))
				continue
			}
			where := o.Name + "." + f.Name
			if !outputCompatible(f.Type, nf.Type) {
				out = append(out, breaking("FIELD_TYPE_CHANGED", where+": "+f.Type.String()+" → "+nf.Type.String()))
			}
			out = append(out, compareArgs(where, f.Arguments, nf.Arguments)...)
		}
	case ast.InputObject:
		for _, f := range o.Fields {
			nf := n.Fields.ForName(f.Name)
			if nf == nil {
				out = append(out, breaking("INPUT_FIELD_REMOVED", o.Name+"."+f.Name))
			} else if !inputCompatible(f.Type, nf.Type) {
				out = append(out, breaking("INPUT_FIELD_TYPE_CHANGED", o.Name+"."+f.Name+": "+f.Type.String()+" → "+nf.Type.String()))
			}
		}
		for _, f := range n.Fields {
			if o.Fields.ForName(f.Name) == nil && f.Type.NonNull && f.DefaultValue == nil {
				out = append(out, breaking("REQUIRED_INPUT_FIELD_ADDED", o.Name+"."+f.Name))
			}
		}
	}
	return out
}

func compareArgs(where string, old, new ast.ArgumentDefinitionList) []Change {
	var out []Change
	for _, a := range old {
		na := new.ForName(a.Name)
		switch {
		case na == nil:
			out = append(out, breaking("ARGUMENT_REMOVED", where+"("+a.Name+")"))
		case !inputCompatible(a.Type, na.Type):
			out = append(out, breaking("ARGUMENT_TYPE_CHANGED", where+"("+a.Name+"): "+a.Type.String()+" → "+na.Type.String()))
		case fmt.Sprint(a.DefaultValue) != fmt.Sprint(na.DefaultValue):
			out = append(out, dangerous("ARGUMENT_DEFAULT_CHANGED", where+"("+a.Name+")"))
		}
	}
	for _, a := range new {
		if old.ForName(a.Name) == nil && a.Type.NonNull && a.DefaultValue == nil {
			out = append(out, breaking("REQUIRED_ARGUMENT_ADDED", where+"("+a.Name+")"))
		}
	}
	return out
}

// outputCompatible: a client reading new where it read old still gets what it expects:
// the same named type and list shape, nullable only where it was.
func outputCompatible(old, new *ast.Type) bool {
	if old == nil || new == nil {
		return old == new
	}
	if old.NonNull && !new.NonNull {
		return false
	}
	if (old.Elem == nil) != (new.Elem == nil) {
		return false
	}
	if old.Elem != nil {
		return outputCompatible(old.Elem, new.Elem)
	}
	return old.NamedType == new.NamedType
}

// inputCompatible: what a client sent for old is still valid for new: the same named
// type and list shape, required only where it was.
func inputCompatible(old, new *ast.Type) bool {
	if old == nil || new == nil {
		return old == new
	}
	if !old.NonNull && new.NonNull {
		return false
	}
	if (old.Elem == nil) != (new.Elem == nil) {
		return false
	}
	if old.Elem != nil {
		return inputCompatible(old.Elem, new.Elem)
	}
	return old.NamedType == new.NamedType
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Check compares the schema text current with released, reading acknowledgements: one
// line per accepted breaking change, "<ID> — <why>" (lines starting with # are comments).
// It returns a report for the CI log and whether every breaking change is acknowledged
// with a reason.
func Check(current, released, acknowledged string) (report string, ok bool, err error) {
	cur, gerr := gqlparser.LoadSchema(&ast.Source{Name: "schema.graphqls", Input: current})
	if gerr != nil {
		return "", false, gerr
	}
	rel, gerr := gqlparser.LoadSchema(&ast.Source{Name: "schema.released.graphqls", Input: released})
	if gerr != nil {
		return "", false, gerr
	}
	acks := map[string]string{}
	for _, line := range strings.Split(acknowledged, "\n") {
		if line = strings.TrimSpace(line); line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		id, why, _ := strings.Cut(line, " — ")
		acks[strings.TrimSpace(id)] = strings.TrimSpace(why)
	}
	var b strings.Builder
	ok = true
	for _, c := range Compare(rel, cur) {
		switch why, acked := acks[c.ID]; {
		case c.Breaking && acked && why != "":
			fmt.Fprintf(&b, "breaking, acknowledged: %s — %s\n", c.ID, why)
		case c.Breaking:
			ok = false
			fmt.Fprintf(&b, "BREAKING: %s (acknowledge it in schema.acknowledged with a reason, or take it back)\n", c.ID)
		case c.Dangerous:
			fmt.Fprintf(&b, "dangerous: %s\n", c.ID)
		}
	}
	return b.String(), ok, nil
}
