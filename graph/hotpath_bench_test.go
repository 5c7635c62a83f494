package graph

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/koodrive/facade/koodrive"
	"github.com/koodrive/facade/koodrive/demo"
)

// Hot paths of one request, without timing assertions:
//
//	go test -run '^$' -bench . -benchmem ./graph

func BenchmarkCursor(b *testing.B) {
	// A position in the middle of an upstream page: the longest cursor a page makes.
	pos := pagePosition{Filter: filterKey("platform", koodrive.SourceUserGroup), Upstream: "a2Q6NTA6MQ", PageSize: 50, Skip: 17}
	cursor := encodeCursor(pos)
	b.Run("filterKey", func(b *testing.B) {
		for b.Loop() {
			_ = filterKey("platform", koodrive.SourceUserGroup)
		}
	})
	b.Run("encode", func(b *testing.B) {
		for b.Loop() {
			_ = encodeCursor(pos)
		}
	})
	b.Run("decode", func(b *testing.B) {
		for b.Loop() {
			if _, err := decodeCursor(cursor, pos.Filter); err != nil {
				b.Fatal(err)
			}
		}
	})
	// What a page of 50 costs in cursors: one filterKey, 50 encodes, and decoding after.
	b.Run("page-of-50", func(b *testing.B) {
		for b.Loop() {
			filter := filterKey("platform", koodrive.SourceUserGroup)
			p := pos
			p.Filter = filter
			var last string
			for i := range 50 {
				p.Skip = i
				last = encodeCursor(p)
			}
			if _, err := decodeCursor(last, filter); err != nil {
				b.Fatal(err)
			}
		}
	})
}

const userGroups50Body = `{"query":"{ userGroups(first: 50) { edges { node { groupId name owner { userId name } } } } }"}`

// serveOnce sends the userGroups(first: 50)-with-owners request through the handler.
func (e *testEnv) serveOnce() bool {
	req := httptest.NewRequest(http.MethodPost, "/query", strings.NewReader(userGroups50Body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", demo.Authorization)
	req.Header.Set("X-User-Id", e.Up.CallerID())
	rec := httptest.NewRecorder()
	e.Handler.ServeHTTP(rec, req)
	return rec.Code == http.StatusOK && !bytes.Contains(rec.Body.Bytes(), []byte(`"errors"`))
}

// BenchmarkHandlerUserGroups50 is a whole request through the handler: transport,
// parse (cached), validation, complexity, resolvers, 1 group page and 30 owners over
// HTTP, and the JSON answer. The demo KooDrive runs in the same process, so its CPU is
// in the numbers too; a profile tells the two apart.
func BenchmarkHandlerUserGroups50(b *testing.B) {
	b.Run("serial", func(b *testing.B) {
		e := newEnv(b, envOptions{discardLogs: true})
		before := e.Up.Calls()
		b.ReportAllocs()
		for b.Loop() {
			if !e.serveOnce() {
				b.Fatal("request failed")
			}
		}
		b.ReportMetric(float64(e.Up.Calls()-before)/float64(b.N), "upstream-calls/op")
	})
	// Concurrent requests without coalescing, so each one makes all its calls, as
	// requests of different callers would.
	b.Run("parallel", func(b *testing.B) {
		e := newEnv(b, envOptions{discardLogs: true, koodrive: []koodrive.Option{koodrive.WithoutCoalescing()}})
		before := e.Up.Calls()
		var failed atomic.Int64
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if !e.serveOnce() {
					failed.Add(1)
				}
			}
		})
		if failed.Load() > 0 {
			b.Fatalf("%d requests failed", failed.Load())
		}
		b.ReportMetric(float64(e.Up.Calls()-before)/float64(b.N), "upstream-calls/op")
	})
}

// batchCounter counts loader batches.
type batchCounter struct{ batches, users atomic.Int64 }

func (c *batchCounter) UserBatch(n int) { c.batches.Add(1); c.users.Add(int64(n)) }

// BenchmarkUserLoaderBatch50 resolves the owners of a page of 50 groups as gqlgen does,
// one concurrent Load per owner field, through a fresh per-request loader: 50 loads,
// 30 distinct owners, which should cost 30 upstream calls in as few batches as possible.
func BenchmarkUserLoaderBatch50(b *testing.B) {
	counter := &batchCounter{}
	e := newEnv(b, envOptions{discardLogs: true, graph: Options{Observer: counter}, koodrive: []koodrive.Option{koodrive.WithoutCoalescing()}})
	ctx := koodrive.WithCaller(context.Background(), koodrive.Caller{Authorization: demo.Authorization, UserID: e.Up.CallerID()})
	page, err := e.resolver.kd.ListUserGroups(ctx, koodrive.ListUserGroupsParams{PageSize: 50, SourceType: koodrive.SourceUserGroup})
	if err != nil || len(page.Groups) != 50 {
		b.Fatalf("first page: %v (%d groups)", err, len(page.Groups))
	}
	before := e.Up.Calls()
	var failed atomic.Int64
	b.ReportAllocs()
	for b.Loop() {
		reqCtx := context.WithValue(ctx, loadersKey{}, e.resolver.newLoaders())
		var wg sync.WaitGroup
		for _, g := range page.Groups {
			wg.Go(func() {
				if _, err := e.resolver.userByID(reqCtx, g.OwnerID); err != nil {
					failed.Add(1)
				}
			})
		}
		wg.Wait()
	}
	if failed.Load() > 0 {
		b.Fatalf("%d loads failed", failed.Load())
	}
	n := float64(b.N)
	b.ReportMetric(float64(e.Up.Calls()-before)/n, "upstream-calls/op")
	b.ReportMetric(float64(counter.batches.Load())/n, "batches/op")
	b.ReportMetric(float64(counter.users.Load())/n, "batched-users/op")
}
