package graph

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/koodrive/facade/koodrive"
	"github.com/koodrive/facade/koodrive/demo"
)

// The query mix of a screen of the mobile app and its refreshes: the caller, a first
// page of groups with owners, the next page, a filtered page, and one owner's profile.
var queryMix = []string{
	`{ viewer { userId name } userGroups(first: 20) { pageInfo { endCursor } nodes { name owner { name } } } }`,
	`{ userGroups(first: 20, after: "%s") { nodes { name owner { name deptName } } } }`,
	`{ userGroups(first: 20, groupName: "team") { totalCount nodes { name owner { name } } } }`,
	`{ user(userId: "%s") { name mobile deptName } }`,
}

// BenchmarkQueryMix reports the upstream calls that 8 clients of one caller, running
// the mix at once, cost per round, with coalescing and the user cache on and off:
//
//	go test -run '^$' -bench QueryMix -benchtime 50x ./graph
func BenchmarkQueryMix(b *testing.B) {
	for _, v := range []struct {
		name string
		opts []koodrive.Option
	}{
		{"plain", []koodrive.Option{koodrive.WithoutCoalescing()}},
		{"coalescing", nil},
		{"cache", []koodrive.Option{koodrive.WithoutCoalescing(), koodrive.WithUserCache(30*time.Second, 1000)}},
		{"coalescing+cache", []koodrive.Option{koodrive.WithUserCache(30*time.Second, 1000)}},
	} {
		b.Run(v.name, func(b *testing.B) {
			e := newEnv(b, envOptions{discardLogs: true, upstream: demo.Options{Latency: 2 * time.Millisecond}, koodrive: v.opts})
			up := e.Up
			post := func(q string) map[string]any {
				resp, err := e.client.RawPost(q, e.As()...)
				if err != nil || resp.Errors != nil {
					b.Errorf("%s: %v %s", q, err, resp.Errors) // may run off the benchmark's goroutine
					return nil
				}
				return resp.Data.(map[string]any)
			}
			cursor := post(queryMix[0])["userGroups"].(map[string]any)["pageInfo"].(map[string]any)["endCursor"]
			mix := []string{queryMix[0], fmt.Sprintf(queryMix[1], cursor), queryMix[2], fmt.Sprintf(queryMix[3], up.UserIDs()[7])}
			before := up.Calls()
			b.ResetTimer()
			for range b.N {
				var wg sync.WaitGroup
				for range 8 {
					for _, q := range mix {
						wg.Go(func() { post(q) })
					}
				}
				wg.Wait()
			}
			b.ReportMetric(float64(up.Calls()-before)/float64(b.N), "upstream-calls/round")
		})
	}
}
