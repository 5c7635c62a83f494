package graph

import (
	"sync"
	"testing"
	"time"

	"github.com/99designs/gqlgen/client"

	"github.com/koodrive/facade/graph/internal/gqltest"
	"github.com/koodrive/facade/koodrive"
	"github.com/koodrive/facade/koodrive/demo"
)

// clockObserver records what the adapter reports of KooDrive's clock and refusals.
type clockObserver struct {
	mu       sync.Mutex
	refusals int // 401 answers
	retries  int
	offset   time.Duration
}

func (o *clockObserver) UpstreamCall(_ string, status int, _ time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if status == 401 {
		o.refusals++
	}
}
func (o *clockObserver) UserCacheLookup(string)            {}
func (o *clockObserver) Held(string, time.Time)            {}
func (o *clockObserver) CallLimited()                      {}
func (o *clockObserver) BreakerStateChange(string, string) {}
func (o *clockObserver) ClockRetry(string)                 { o.mu.Lock(); o.retries++; o.mu.Unlock() }
func (o *clockObserver) ClockOffset(d time.Duration)       { o.mu.Lock(); o.offset = d; o.mu.Unlock() }

// skewRun is the same run of GraphQL requests against a demo KooDrive whose clock is
// skew off ours and which accepts no X-Date ahead of it. The first request makes one
// call, so a refusal it meets is one call to correct.
func skewRun(t *testing.T, skew time.Duration, margin time.Duration) (calls int64, o *clockObserver) {
	t.Helper()
	o = &clockObserver{}
	e := newEnv(t, envOptions{
		upstream: demo.Options{ClockOffset: skew},
		koodrive: []koodrive.Option{koodrive.WithObserver(o), koodrive.WithClockMargin(margin)},
	})
	queries := []string{
		`{ viewer { name } }`,
		`{ userGroups(first: 20) { nodes { name owner { name } } } }`,
		`{ viewer { deptName } userGroups(first: 5, sourceType: USER_GROUP) { totalCount nodes { owner { userId } } } }`,
	}
	for round := range 3 {
		for _, q := range queries {
			if errs, raw := e.Do(t, q, nil, e.As()...); len(errs) > 0 {
				t.Fatalf("round %d, %s: %s", round, q, raw)
			}
		}
	}
	return e.Up.Calls(), o
}

func TestClockSkewCostsNoRequest(t *testing.T) {
	baseline, o := skewRun(t, 0, koodrive.DefaultClockMargin)
	if o.retries != 0 || o.refusals != 0 {
		t.Fatalf("no skew: %d clock retries, %d refusals; want none", o.retries, o.refusals)
	}
	cases := []struct {
		skew        time.Duration
		mustCorrect bool // with the default margin, the first call is refused and corrected
	}{
		{-500 * time.Millisecond, false},
		{-90 * time.Second, true},
		{4 * time.Minute, false},
		{14 * time.Minute, false},
		{20 * time.Minute, true}, // X-Date from our clock is older than the window
	}
	for _, tc := range cases {
		for _, margin := range []time.Duration{koodrive.DefaultClockMargin, 0} {
			t.Run(tc.skew.String()+"/margin "+margin.String(), func(t *testing.T) {
				calls, o := skewRun(t, tc.skew, margin)
				if o.retries > 1 || calls != baseline+int64(o.retries) || o.refusals != o.retries {
					t.Fatalf("%d upstream calls (%d without skew), %d clock retries, %d refusals; want at most one retried call, and no other",
						calls, baseline, o.retries, o.refusals)
				}
				if tc.mustCorrect && o.retries != 1 {
					t.Fatalf("%d clock retries, want the first call corrected once", o.retries)
				}
				// Date is whole seconds, so the estimate is a lower bound up to about 1 s under.
				if o.offset > tc.skew+5*time.Millisecond || o.offset < tc.skew-2*time.Second {
					t.Errorf("estimated offset %v, want within 2 s under %v", o.offset, tc.skew)
				}
			})
		}
	}
}

func TestBadCredentialsAreNotRetriedForTheClock(t *testing.T) {
	o := &clockObserver{}
	e := newEnv(t, envOptions{koodrive: []koodrive.Option{koodrive.WithObserver(o)}})
	errs, _ := e.Do(t, `{ viewer { name } }`,
		nil, client.AddHeader("Authorization", "Bearer not-the-token"), client.AddHeader("X-User-Id", e.Up.CallerID()))
	gqltest.ExpectCode(t, errs, "UNAUTHENTICATED")
	if calls := e.Up.Calls(); calls != 1 || o.retries != 0 {
		t.Fatalf("%d upstream calls, %d clock retries; want 1 and none", calls, o.retries)
	}
}
