package koodrive

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// fixedSlots is a bucket of n slots that never restore.
type fixedSlots struct {
	mu   sync.Mutex
	left int
}

func (f *fixedSlots) Take(_ context.Context, _ string, n float64) (bool, time.Duration, float64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.left < int(n) {
		return false, time.Hour, float64(f.left)
	}
	f.left -= int(n)
	return true, 0, float64(f.left)
}

// TestCallsOverTheLimitFailWithinTheBudget: with two slots, two calls reach KooDrive and
// the others, finding no slot within their budget, fail with ErrRateLimited and make no
// call; no retry and no breaker failure come of it.
func TestCallsOverTheLimitFailWithinTheBudget(t *testing.T) {
	obs := &holdObserver{}
	f := setup(t, WithCallLimit(&fixedSlots{left: 2}), WithObserver(obs), WithBreaker(BreakerSettings{ConsecutiveFailures: 1, OpenFor: time.Minute}))
	f.mux.HandleFunc(userRoute, ok)
	ctx, cancel := context.WithTimeout(callerContext(t, testCaller()), time.Second)
	defer cancel()
	var limited int
	for range 5 {
		_, err := f.client.GetUser(ctx, "1")
		var ke *Error
		switch {
		case err == nil:
		case errors.Is(err, ErrRateLimited) && errors.As(err, &ke) && ke.StatusCode == 0:
			limited++
		default:
			t.Fatalf("err %v, want nil or ErrRateLimited", err)
		}
	}
	if f.requests.Load() != 2 || limited != 3 {
		t.Fatalf("%d calls made, %d limited; want 2 and 3", f.requests.Load(), limited)
	}
	if ctx.Err() != nil {
		t.Fatal("a call waited out its budget instead of failing at once")
	}
}

// laterSlot has no slot at first, and one after wait.
type laterSlot struct {
	mu    sync.Mutex
	asked int
	wait  time.Duration
}

func (l *laterSlot) Take(context.Context, string, float64) (bool, time.Duration, float64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.asked++
	if l.asked == 1 {
		return false, l.wait, 0
	}
	return true, 0, 0
}

func TestACallWaitsForItsSlot(t *testing.T) {
	slots := &laterSlot{wait: 20 * time.Millisecond}
	f := setup(t, WithCallLimit(slots))
	f.mux.HandleFunc(userRoute, ok)
	if _, err := f.client.GetUser(callerContext(t, testCaller()), "1"); err != nil {
		t.Fatal(err)
	}
	if slots.asked != 2 || f.requests.Load() != 1 {
		t.Fatalf("asked %d times, %d calls; want 2 and 1", slots.asked, f.requests.Load())
	}
}
