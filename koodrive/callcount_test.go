package koodrive

import "testing"

func TestNestedCallCountsAddUp(t *testing.T) {
	request := WithCallCount(t.Context())
	countCall(request)
	walk := WithCallCount(request)
	countCall(walk)
	countCall(walk)
	if r, w := CallCount(request), CallCount(walk); r != 3 || w != 2 {
		t.Fatalf("request %d, inner %d calls; want 3 and 2", r, w)
	}
	if n := CallCount(t.Context()); n != 0 {
		t.Fatalf("uncounted context: %d", n)
	}
	countCall(t.Context()) // no counter: nothing to do, no panic
}
