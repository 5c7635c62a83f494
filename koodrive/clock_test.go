package koodrive

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// httpDate formats t as KooDrive's Date header would.
func httpDate(t time.Time) string { return t.UTC().Format(http.TimeFormat) }

func newTestClock(now time.Time, logs *bytes.Buffer) *upstreamClock {
	return &upstreamClock{now: func() time.Time { return now }, margin: DefaultClockMargin, log: slog.New(slog.NewTextHandler(logs, nil))}
}

func TestClockOffsetIsTheMedianOfRecentDates(t *testing.T) {
	now := fixedNow.Truncate(time.Second)
	seconds := func(s ...int) []string {
		var out []string
		for _, n := range s {
			out = append(out, httpDate(now.Add(time.Duration(n)*time.Second)))
		}
		return out
	}
	cases := []struct {
		name  string
		dates []string
		want  time.Duration
	}{
		{"none: our own clock", nil, 0},
		{"one", seconds(90), 90 * time.Second},
		{"a single odd value among steady ones", seconds(-90, -90, 3600, -90, -90), -90 * time.Second},
		{"a single odd value after two", seconds(-90, -90, 3600), -90 * time.Second},
		{"two: the one nearer the estimate so far", seconds(-90, 3600), -90 * time.Second},
		{"four: the middle one nearer the estimate so far", seconds(-90, -90, 3600, 3600), -90 * time.Second},
		{"the latest five only", seconds(10, 10, 10, 10, 10, 20, 20, 20), 20 * time.Second},
		{"absent and garbled are ignored", append(seconds(30), "", "yesterday", "Mon, 99 Nov 2025 07:01:40 GMT"), 30 * time.Second},
		{"RFC 850 and asctime dates are HTTP dates too", []string{"Monday, 03-Nov-25 07:02:40 GMT", "Mon Nov  3 07:02:40 2025"}, time.Minute},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := newTestClock(now, &bytes.Buffer{})
			for _, d := range tc.dates {
				c.observe(d, now)
			}
			if got := c.Offset(); got != tc.want {
				t.Errorf("offset %v, want %v", got, tc.want)
			}
		})
	}
}

func TestXDateIsKooDrivesClockLessTheMargin(t *testing.T) {
	now := time.Date(2025, 11, 3, 7, 1, 40, 700_000_000, time.UTC) // .7 s: X-Date truncates
	c := newTestClock(now, &bytes.Buffer{})
	if got, want := c.xDate(), time.Date(2025, 11, 3, 7, 1, 35, 0, time.UTC); !got.Equal(want) {
		t.Errorf("no Date seen yet: X-Date %v, want %v (our clock less 5 s, whole seconds)", got, want)
	}
	c.observe("Mon, 03 Nov 2025 07:00:10 GMT", now) // KooDrive 90.7 s behind at most
	if got, want := c.xDate(), time.Date(2025, 11, 3, 7, 0, 5, 0, time.UTC); !got.Equal(want) {
		t.Errorf("KooDrive behind: X-Date %v, want %v (its Date less 5 s)", got, want)
	}
}

func TestRefusedForSkew(t *testing.T) {
	now := fixedNow.Truncate(time.Second)
	cases := []struct {
		name     string
		sent     time.Time
		date     string
		skewed   bool
		toOffset time.Duration // the estimate after a skewed refusal
	}{
		{"X-Date in KooDrive's future", now, httpDate(now.Add(-90 * time.Second)), true, -90 * time.Second},
		{"X-Date one second ahead", now, httpDate(now.Add(-time.Second)), true, -time.Second},
		{"X-Date past the 15-minute window", now, httpDate(now.Add(20 * time.Minute)), true, 20 * time.Minute},
		{"X-Date equal to KooDrive's clock", now, httpDate(now), false, 0},
		{"X-Date inside the window: the credentials were refused", now.Add(-5 * time.Second), httpDate(now), false, 0},
		{"X-Date 14m59s old: inside", now, httpDate(now.Add(14*time.Minute + 59*time.Second)), false, 0},
		{"no Date: nothing shows skew", now, "", false, 0},
		{"garbled Date", now, "soon", false, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := newTestClock(now, &bytes.Buffer{})
			for range 3 {
				c.observe(httpDate(now), now) // an estimate the refusal must override
			}
			if got := c.refusedForSkew(tc.sent, tc.date, now); got != tc.skewed {
				t.Fatalf("refusedForSkew = %v, want %v", got, tc.skewed)
			}
			if got := c.Offset(); got != tc.toOffset {
				t.Errorf("offset after the refusal %v, want %v", got, tc.toOffset)
			}
		})
	}
}

func TestClockWarnsOncePerCrossing(t *testing.T) {
	now := fixedNow.Truncate(time.Second)
	var logs bytes.Buffer
	c := newTestClock(now, &logs)
	var reported []time.Duration
	c.onChange = func(d time.Duration) { reported = append(reported, d) }
	observe := func(offset time.Duration, times int) {
		for range times {
			c.observe(httpDate(now.Add(offset)), now)
		}
	}
	observe(0, 5)
	observe(-90*time.Second, 5) // crosses: one warning
	observe(-91*time.Second, 5) // still beyond: none
	observe(time.Second, 5)     // back: one info
	observe(-90*time.Second, 5) // crosses again: a second warning
	if n := strings.Count(logs.String(), "level=WARN"); n != 2 {
		t.Errorf("%d warnings, want 2 (one per crossing):\n%s", n, logs.String())
	}
	if n := strings.Count(logs.String(), "agree again"); n != 1 {
		t.Errorf("%d recoveries logged, want 1:\n%s", n, logs.String())
	}
	want := []time.Duration{-90 * time.Second, -91 * time.Second, time.Second, -90 * time.Second}
	if fmt.Sprint(reported) != fmt.Sprint(want) {
		t.Errorf("offsets reported %v, want each change once: %v", reported, want)
	}
}

// skewObserver counts the clock retries and keeps the latest offset.
type skewObserver struct {
	noObserver
	mu      sync.Mutex
	retries map[string]int
	offset  time.Duration
}

func (o *skewObserver) ClockRetry(endpoint string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.retries == nil {
		o.retries = map[string]int{}
	}
	o.retries[endpoint]++
}

func (o *skewObserver) ClockOffset(d time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.offset = d
}

// refuseFuture answers like KooDrive whose clock is ours plus skew: Date from that clock,
// and 401 for an X-Date later than it or more than 15 minutes old.
func refuseFuture(skew time.Duration, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		kooNow := fixedNow.Add(skew)
		w.Header().Set("Date", httpDate(kooNow))
		sent, err := time.Parse(xDateLayout, r.Header.Get("X-Date"))
		if err != nil || sent.After(kooNow) || kooNow.Sub(sent) > 15*time.Minute {
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"code":1004,"msg":"X-Date expired or in the future"}`)
			return
		}
		fmt.Fprint(w, body)
	}
}

func TestSkewedRefusalIsRetriedOnceOnKooDrivesClock(t *testing.T) {
	for _, skew := range []time.Duration{-90 * time.Second, 20 * time.Minute} {
		t.Run(skew.String(), func(t *testing.T) {
			o := &skewObserver{}
			f := setup(t, fastRetries, WithObserver(o))
			f.mux.HandleFunc(userRoute, refuseFuture(skew, okBody))
			ctx := callerContext(t, testCaller())
			if _, err := f.client.GetUser(ctx, "1"); err != nil {
				t.Fatalf("first call: %v", err)
			}
			if n := f.requests.Load(); n != 2 || o.retries[opGetUser] != 1 {
				t.Fatalf("%d attempts, %d clock retries; want 2 and 1 (refused, corrected, retried)", n, o.retries[opGetUser])
			}
			for range 3 {
				if _, err := f.client.GetUser(ctx, "1"); err != nil {
					t.Fatalf("after the correction: %v", err)
				}
			}
			if n := f.requests.Load(); n != 5 || o.offset != skew {
				t.Fatalf("%d attempts for 4 calls, offset %v; want 5 (no more retries) and %v", n, o.offset, skew)
			}
		})
	}
}

func TestSkewedRefusalIsRetriedAtMostOnce(t *testing.T) {
	o := &skewObserver{}
	f := setup(t, fastRetries, WithObserver(o))
	// Every answer's Date is an hour behind whatever X-Date said: no correction helps.
	f.mux.HandleFunc(userRoute, func(w http.ResponseWriter, r *http.Request) {
		sent, _ := time.Parse(xDateLayout, r.Header.Get("X-Date"))
		w.Header().Set("Date", httpDate(sent.Add(-time.Hour)))
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"code":1004,"msg":"X-Date in the future"}`)
	})
	_, err := f.client.GetUser(callerContext(t, testCaller()), "1")
	if !errors.Is(err, ErrUnauthenticated) {
		t.Fatalf("err %v, want ErrUnauthenticated", err)
	}
	if n := f.requests.Load(); n != 2 || o.retries[opGetUser] != 1 {
		t.Fatalf("%d attempts, %d clock retries; want 2 and 1", n, o.retries[opGetUser])
	}
}

func TestRefusalInsideTheWindowIsNotRetried(t *testing.T) {
	cases := map[string]string{
		"Date agrees with X-Date": httpDate(fixedNow),
		"no Date":                 "",
		"garbled Date":            "not a date",
	}
	for name, date := range cases {
		t.Run(name, func(t *testing.T) {
			o := &skewObserver{}
			f := setup(t, fastRetries, WithObserver(o))
			f.mux.HandleFunc(userRoute, func(w http.ResponseWriter, r *http.Request) {
				if date != "" {
					w.Header().Set("Date", date)
				}
				w.WriteHeader(http.StatusUnauthorized)
				fmt.Fprint(w, `{"code":1001,"msg":"invalid access token"}`)
			})
			_, err := f.client.GetUser(callerContext(t, testCaller()), "1")
			if !errors.Is(err, ErrUnauthenticated) {
				t.Fatalf("err %v, want ErrUnauthenticated", err)
			}
			if n := f.requests.Load(); n != 1 || len(o.retries) != 0 {
				t.Fatalf("%d attempts, clock retries %v; want 1 and none", n, o.retries)
			}
		})
	}
}
