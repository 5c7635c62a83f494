package koodrive

import (
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// KooDrive refuses an X-Date that is later than its own clock or older than its
// window, checked at second granularity. Our clock and KooDrive's are never the same,
// so X-Date is generated on KooDrive's clock as its responses' Date headers show it,
// a margin in the past.
const (
	// DefaultClockMargin: the estimate below is a lower bound on KooDrive's clock, up to
	// about a second under it (Date is whole seconds), so the margin covers what the
	// estimate cannot: KooDrive's backends disagreeing by a few seconds among
	// themselves, and drift between responses. 5 s is 0.6 % of the 15-minute window.
	DefaultClockMargin = 5 * time.Second
	// xDateWindow is how old an X-Date KooDrive accepts.
	xDateWindow = 15 * time.Minute
	// clockWarnAt: an offset past this is a host whose time sync is broken.
	clockWarnAt = 5 * time.Second
	// clockSamples: the estimate is the median of this many recent Date headers, so a
	// single odd one does not move it.
	clockSamples = 5
)

// upstreamClock estimates KooDrive's clock offset from its Date headers.
type upstreamClock struct {
	now      func() time.Time
	margin   time.Duration
	offset   atomic.Int64 // KooDrive − ours, ns: read by every call
	log      *slog.Logger
	onChange func(offset time.Duration)

	mu      sync.Mutex
	samples []time.Duration // ring of the latest, at most clockSamples
	next    int
	warned  bool // the offset is past clockWarnAt and that was logged
}

// xDate is the X-Date for a call made now: KooDrive's estimated time less the margin,
// in whole seconds.
func (c *upstreamClock) xDate() time.Time {
	return c.now().Add(time.Duration(c.offset.Load()) - c.margin).UTC().Truncate(time.Second)
}

// Offset is the current estimate of KooDrive's clock minus ours.
func (c *upstreamClock) Offset() time.Duration { return time.Duration(c.offset.Load()) }

// observe learns from the Date header of a response received at receivedAt (our
// clock). An absent or garbled header is ignored.
func (c *upstreamClock) observe(date string, receivedAt time.Time) {
	sample, ok := dateSample(date, receivedAt)
	if !ok {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.samples) < clockSamples {
		c.samples = append(c.samples, sample)
	} else {
		c.samples[c.next] = sample
	}
	c.next = (c.next + 1) % clockSamples
	c.set(c.median())
}

// refusedForSkew reports whether a 401 answering an X-Date of sent, with the Date
// header date, shows that X-Date was outside KooDrive's window. If so, the estimate is
// reset to that refusal's Date: it proves the samples before it wrong.
func (c *upstreamClock) refusedForSkew(sent time.Time, date string, receivedAt time.Time) bool {
	sample, ok := dateSample(date, receivedAt)
	if !ok {
		return false
	}
	upstreamNow, _ := http.ParseTime(date) // dateSample parsed it
	if !sent.After(upstreamNow) && upstreamNow.Sub(sent) < xDateWindow {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.samples, c.next = append(c.samples[:0], sample), 1
	c.set(sample)
	return true
}

// dateSample is KooDrive's Date less our receipt time: a lower bound on the offset,
// as KooDrive's clock had at least reached Date when it answered.
func dateSample(date string, receivedAt time.Time) (time.Duration, bool) {
	if date == "" {
		return 0, false
	}
	t, err := http.ParseTime(date)
	if err != nil {
		return 0, false
	}
	return t.Sub(receivedAt).Truncate(time.Millisecond), true
}

// median of the samples; of an even count's two middle values, the one nearer the
// current estimate, so a single odd value does not move it.
func (c *upstreamClock) median() time.Duration {
	s := slices.Clone(c.samples)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	cur, lo, hi := c.Offset(), s[n/2-1], s[n/2]
	if (cur - lo).Abs() <= (hi - cur).Abs() {
		return lo
	}
	return hi
}

// set stores a new estimate, reports it, and warns once each time it crosses
// clockWarnAt. Called with mu held.
func (c *upstreamClock) set(offset time.Duration) {
	if c.offset.Swap(int64(offset)) == int64(offset) {
		return
	}
	if c.onChange != nil {
		c.onChange(offset)
	}
	switch beyond := offset.Abs() > clockWarnAt; {
	case beyond && !c.warned:
		c.log.Warn("KooDrive's clock and this host's differ; X-Date follows KooDrive's, but fix the host's time sync",
			"offset_seconds", offset.Seconds(), "warn_at_seconds", clockWarnAt.Seconds())
	case !beyond && c.warned:
		c.log.Info("KooDrive's clock and this host's agree again", "offset_seconds", offset.Seconds())
	}
	c.warned = offset.Abs() > clockWarnAt
}
