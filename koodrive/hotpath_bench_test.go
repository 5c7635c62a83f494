package koodrive

import (
	"context"
	"net/http/httptest"
	"testing"

	"github.com/koodrive/facade/koodrive/demo"
)

// The adapter's cost per call against a zero-latency demo KooDrive over real HTTP; the
// demo runs in the same process, so its CPU is in the numbers too:
//
//	go test -run '^$' -bench . -benchmem ./koodrive

func newBenchClient(b *testing.B, opts ...Option) (*Client, context.Context, string) {
	b.Helper()
	up := demo.New(demo.Options{})
	srv := httptest.NewServer(up)
	b.Cleanup(srv.Close)
	c, err := New(srv.URL, opts...)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(c.CloseIdleConnections)
	ctx := WithCaller(context.Background(), Caller{Authorization: demo.Authorization, UserID: up.CallerID(), TraceID: "bench"})
	return c, ctx, up.UserIDs()[7]
}

func BenchmarkGetUser(b *testing.B) {
	for _, v := range []struct {
		name string
		opts []Option
	}{{"coalescing", nil}, {"plain", []Option{WithoutCoalescing()}}} {
		b.Run(v.name, func(b *testing.B) {
			c, ctx, id := newBenchClient(b, v.opts...)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.GetUser(ctx, id); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkListUserGroups50(b *testing.B) {
	c, ctx, _ := newBenchClient(b)
	b.ReportAllocs()
	for b.Loop() {
		page, err := c.ListUserGroups(ctx, ListUserGroupsParams{PageSize: 50, SourceType: SourceUserGroup})
		if err != nil || len(page.Groups) != 50 {
			b.Fatalf("%v (%d groups)", err, len(page.Groups))
		}
	}
}

// BenchmarkCallKey is the coalescing key every call hashes, coalescing on or off.
func BenchmarkCallKey(b *testing.B) {
	caller := Caller{Authorization: demo.Authorization, UserID: "1008600000293202821", TraceID: "bench"}
	target := "http://127.0.0.1:8080/koodrive/ose/v1/users/1008600000293203500"
	for b.Loop() {
		_ = callKey(opGetUser, target, caller)
	}
}
