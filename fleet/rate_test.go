package fleet

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
)

func TestParseRate(t *testing.T) {
	for in, want := range map[string]Rate{"300/m": {300, time.Minute}, "20/s": {20, time.Second}, "5/h": {5, time.Hour}, " 7 ": {7, time.Second}} {
		if got, err := ParseRate(in); err != nil || got != want {
			t.Errorf("ParseRate(%q) = %v %v, want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "0/s", "-1/m", "10/d", "ten/s", "10/", "/s", "1.5/s"} {
		if _, err := ParseRate(bad); err == nil {
			t.Errorf("ParseRate(%q) accepted", bad)
		}
	}
}

// limiter is what the tests run the same steps against: in process, and on miniredis.
type limiter interface {
	Take(ctx context.Context, key string, n float64) (bool, time.Duration, float64)
	Settle(ctx context.Context, key string, n float64) float64
}

// step is one call and what it must answer; advance moves the clock first.
type step struct {
	advance time.Duration
	take    float64 // Take this many; 0 with settle: Settle
	settle  float64
	ok      bool
	wait    time.Duration // expected wait when refused (-1: never)
	left    float64
}

// 10 tokens a minute: one every 6 s.
var steps = []step{
	{take: 4, ok: true, left: 6},
	{take: 6, ok: true, left: 0},                                         // the burst, used up
	{take: 1, wait: 6 * time.Second, left: 0},                            // one restores in 6 s
	{advance: 12 * time.Second, take: 3, wait: 6 * time.Second, left: 2}, // two back; three asked
	{take: 2, ok: true, left: 0},
	{settle: -5, left: 5},          // a refund of what was not called
	{settle: -50, left: 10},        // never above the burst
	{take: 11, wait: -1, left: 10}, // more than the burst: never
	{take: 10, ok: true, left: 0},
	{settle: 3, left: 0},                                                 // charged after the fact, past empty
	{advance: 6 * time.Second, take: 1, wait: 18 * time.Second, left: 0}, // 3 s owed first
	{advance: time.Hour, take: 10, ok: true, left: 0},
}

func runSteps(t *testing.T, l limiter, advance func(time.Duration)) {
	t.Helper()
	ctx := context.Background()
	for i, s := range steps {
		advance(s.advance)
		if s.take == 0 {
			if left := l.Settle(ctx, "caller", s.settle); math.Abs(left-s.left) > 0.01 {
				t.Fatalf("step %d: Settle(%v) left %v, want %v", i, s.settle, left, s.left)
			}
			continue
		}
		ok, wait, left := l.Take(ctx, "caller", s.take)
		if ok != s.ok || math.Abs(left-s.left) > 0.01 || (!ok && (wait-s.wait).Abs() > time.Millisecond) {
			t.Fatalf("step %d: Take(%v) = %v, wait %v, left %v; want %v, %v, %v", i, s.take, ok, wait, left, s.ok, s.wait, s.left)
		}
	}
	if ok, _, _ := l.Take(ctx, "another caller", 10); !ok {
		t.Fatal("another key shares the bucket")
	}
}

var tenAMinute = Rate{N: 10, Per: time.Minute}

func TestLocalBuckets(t *testing.T) {
	l := NewLocalLimiter(tenAMinute)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l.now = func() time.Time { return now }
	runSteps(t, l, func(d time.Duration) { now = now.Add(d) })
}

func TestRedisBuckets(t *testing.T) {
	mr := miniredis.RunT(t)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	mr.SetTime(now)
	r := connect(t, "redis://"+mr.Addr(), nil, nil)
	l := r.Limiter("calls", tenAMinute, NewLocalLimiter(tenAMinute))
	runSteps(t, l, func(d time.Duration) { now = now.Add(d); mr.SetTime(now) })
	for _, k := range mr.Keys() {
		if ttl := mr.TTL(k); ttl <= 0 || ttl > time.Minute+time.Second {
			t.Errorf("bucket %s kept for %v: want until it is full again", k, ttl)
		}
	}
}

// TestRedisBucketsFallBackToLocal: with Redis gone, each replica's own bucket answers.
func TestRedisBucketsFallBackToLocal(t *testing.T) {
	mr := miniredis.RunT(t)
	r := connect(t, "redis://"+mr.Addr(), nil, nil)
	l := r.Limiter("calls", tenAMinute, NewLocalLimiter(tenAMinute))
	if ok, _, _ := l.Take(context.Background(), "caller", 10); !ok {
		t.Fatal("the burst was refused")
	}
	mr.Close()
	if ok, _, left := l.Take(context.Background(), "caller", 10); !ok || left != 0 {
		t.Fatalf("local bucket: %v, %v left; want the local burst", ok, left)
	}
	if ok, _, _ := l.Take(context.Background(), "caller", 1); ok {
		t.Fatal("the local bucket did not limit")
	}
}
