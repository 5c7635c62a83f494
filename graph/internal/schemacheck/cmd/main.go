// Command cmd checks schema.graphqls against the released schema (CI: .ci/run): it lists
// breaking and dangerous changes, and fails on a breaking one that schema.acknowledged
// does not accept with a reason. Run from the module root.
package main

import (
	"fmt"
	"os"

	"github.com/koodrive/facade/graph/internal/schemacheck"
)

func main() {
	read := func(name string) string {
		b, err := os.ReadFile(name)
		if err != nil && !os.IsNotExist(err) {
			fmt.Fprintln(os.Stderr, "schemacheck:", err)
			os.Exit(2)
		}
		return string(b)
	}
	report, ok, err := schemacheck.Check(read("schema.graphqls"), read("schema.released.graphqls"), read("schema.acknowledged"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "schemacheck:", err)
		os.Exit(2)
	}
	if report == "" {
		report = "no change from the released schema that a client could notice\n"
	}
	fmt.Print(report)
	if !ok {
		os.Exit(1)
	}
}
