package fleet

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"

	"github.com/koodrive/facade/koodrive"
	"github.com/koodrive/facade/koodrive/demo"
)

// observer counts what the fleet reports.
type observer struct {
	mu        sync.Mutex
	fallbacks map[string]int
	ups       []bool
}

func (o *observer) RedisFallback(op string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.fallbacks == nil {
		o.fallbacks = map[string]int{}
	}
	o.fallbacks[op]++
}

func (o *observer) RedisUp(up bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.ups = append(o.ups, up)
}

func connect(t *testing.T, url string, logs *demo.LogBuffer, obs *observer) *Redis {
	t.Helper()
	o := Options{URL: url}
	if obs != nil {
		o.Observer = obs
	}
	if logs != nil {
		o.Log = newTextLogger(logs)
	}
	r, err := Connect(t.Context(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close() })
	return r
}

func hashOf(query string) string {
	sum := sha256.Sum256([]byte(query))
	return hex.EncodeToString(sum[:])
}

func TestUsersAreSharedWithTheirExpiry(t *testing.T) {
	mr := miniredis.RunT(t)
	one, two := connect(t, "redis://"+mr.Addr(), nil, nil), connect(t, "redis://"+mr.Addr()+"/0", nil, nil)
	name := "Ann"
	expires := time.Now().Add(30 * time.Second).Truncate(time.Millisecond)
	one.AddUser(t.Context(), "abc123", &koodrive.User{Name: &name}, expires)
	u, at, ok := two.GetUser(t.Context(), "abc123")
	if !ok || u.Name == nil || *u.Name != "Ann" || !at.Equal(expires) {
		t.Fatalf("got %v %v %v, want Ann until %v", u, at, ok, expires)
	}
	if ttl := mr.TTL("kdf:user:abc123"); ttl <= 29*time.Second || ttl > 30*time.Second {
		t.Fatalf("TTL %v, want the entry's remaining 30 s", ttl)
	}
	if _, _, ok := two.GetUser(t.Context(), "nobody"); ok {
		t.Fatal("a missing key was a hit")
	}
	one.AddUser(t.Context(), "gone", &koodrive.User{}, time.Now().Add(-time.Second))
	if mr.Exists("kdf:user:gone") {
		t.Fatal("an expired user was written")
	}
}

func TestQueriesAreSharedAndKeptWhileUsed(t *testing.T) {
	mr := miniredis.RunT(t)
	one, two := connect(t, "redis://"+mr.Addr(), nil, nil), connect(t, "redis://"+mr.Addr(), nil, nil)
	const q = "{ viewer { name } }"
	one.AddQuery(t.Context(), hashOf(q), q)
	mr.FastForward(23 * time.Hour)
	if got, ok := two.GetQuery(t.Context(), hashOf(q)); !ok || got != q {
		t.Fatalf("got %q %v", got, ok)
	}
	if ttl := mr.TTL("kdf:apq:" + hashOf(q)); ttl != QueryTTL {
		t.Fatalf("TTL after use %v, want %v again", ttl, QueryTTL)
	}
	mr.FastForward(QueryTTL + time.Second)
	if _, ok := two.GetQuery(t.Context(), hashOf(q)); ok {
		t.Fatal("an unused query outlived its TTL")
	}
}

func TestUndecodableValuesAreMissesAndDeleted(t *testing.T) {
	mr := miniredis.RunT(t)
	r := connect(t, "redis://"+mr.Addr(), nil, nil)
	for key, value := range map[string]string{
		"kdf:user:a":                 "not json",
		"kdf:user:b":                 `{"u":null,"x":1}`,
		"kdf:user:c":                 `{"u":{"name":"x"}}`, // no expiry
		"kdf:apq:" + hashOf("{ a }"): "{ b }",
	} {
		_ = mr.Set(key, value)
	}
	for _, key := range []string{"a", "b", "c"} {
		if _, _, ok := r.GetUser(t.Context(), key); ok {
			t.Errorf("user %s: a bad value was a hit", key)
		}
	}
	if _, ok := r.GetQuery(t.Context(), hashOf("{ a }")); ok {
		t.Error("a query that is not its hash's was a hit")
	}
	if keys := mr.Keys(); len(keys) != 0 {
		t.Fatalf("bad values left: %v", keys)
	}
}

func TestEveryKeyHasThePrefix(t *testing.T) {
	mr := miniredis.RunT(t)
	r, err := Connect(t.Context(), Options{URL: "redis://" + mr.Addr(), Prefix: "team-a:"})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ctx := t.Context()
	r.AddUser(ctx, "k", &koodrive.User{}, time.Now().Add(time.Minute))
	r.AddQuery(ctx, hashOf("{ a }"), "{ a }")
	r.Hold(ctx, "GetUser", time.Now().Add(time.Minute))
	keys := mr.Keys()
	if len(keys) != 3 {
		t.Fatalf("keys %v, want a user, a query and a hold", keys)
	}
	for _, k := range keys {
		if !strings.HasPrefix(k, "team-a:") {
			t.Fatalf("key %q without the prefix", k)
		}
	}
}

func TestHoldsReachEveryReplica(t *testing.T) {
	mr := miniredis.RunT(t)
	one := connect(t, "redis://"+mr.Addr(), nil, nil)
	before := time.Now().Add(time.Minute).Truncate(time.Millisecond)
	one.Hold(t.Context(), "ListUserGroups", before) // in force when the next replica starts

	two := connect(t, "redis://"+mr.Addr(), nil, nil)
	got := make(chan string, 4)
	ctx, stop := context.WithCancel(t.Context())
	watching := make(chan struct{})
	go func() {
		defer close(watching)
		two.WatchHolds(ctx, koodrive.Endpoints, func(endpoint string, until time.Time) {
			got <- endpoint + " " + until.Format(time.RFC3339Nano)
		})
	}()
	if want := "ListUserGroups " + before.Format(time.RFC3339Nano); <-got != want {
		t.Fatalf("the hold in force at start was not read")
	}
	// Published holds arrive once the subscription is in place; publish until one does.
	later := time.Now().Add(2 * time.Minute).Truncate(time.Millisecond)
	want := "GetUser " + later.Format(time.RFC3339Nano)
	deadline := time.After(10 * time.Second)
	for received := false; !received; {
		one.Hold(t.Context(), "GetUser", later)
		select {
		case g := <-got:
			received = g == want
		case <-time.After(20 * time.Millisecond):
		case <-deadline:
			t.Fatal("a published hold never arrived")
		}
	}
	stop()
	<-watching
}

func TestRedisDownFallsBackAndComesBack(t *testing.T) {
	mr := miniredis.RunT(t)
	logs, obs := &demo.LogBuffer{}, &observer{}
	r := connect(t, "redis://"+mr.Addr(), logs, obs)
	r.downFor = 10 * time.Millisecond
	ctx := t.Context()
	r.AddQuery(ctx, hashOf("{ a }"), "{ a }")

	mr.Close()
	for range 5 {
		if _, ok := r.GetQuery(ctx, hashOf("{ a }")); ok {
			t.Fatal("a hit from a stopped Redis")
		}
	}
	if err := mr.Restart(); err != nil {
		t.Fatal(err)
	}
	_ = mr.Set("kdf:apq:"+hashOf("{ b }"), "{ b }")
	var got bool
	for deadline := time.Now().Add(5 * time.Second); !got && time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		_, got = r.GetQuery(ctx, hashOf("{ b }"))
	}
	if !got {
		t.Fatal("sharing did not resume after Redis came back")
	}
	obs.mu.Lock()
	defer obs.mu.Unlock()
	if obs.fallbacks["get_query"] < 5 || len(obs.ups) != 3 || obs.ups[0] != true || obs.ups[1] != false || obs.ups[2] != true {
		t.Fatalf("fallbacks %v, up/down %v; want each failed call counted and up, down, up", obs.fallbacks, obs.ups)
	}
	if down, back := strings.Count(logs.String(), "is not answering"), strings.Count(logs.String(), "answers again"); down != 1 || back != 1 {
		t.Fatalf("%d down and %d up lines, want one each (per transition):\n%s", down, back, logs.String())
	}
}

// TestAHangingRedisCostsItsTimeout: a Redis that accepts and never answers fails each
// call within the timeout, then is left alone while down.
func TestAHangingRedisCostsItsTimeout(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var conns []net.Conn
	var mu sync.Mutex
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c) // held open, never answered
			mu.Unlock()
		}
	}()
	defer func() {
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	}()
	obs := &observer{}
	r, err := Connect(t.Context(), Options{URL: "redis://" + ln.Addr().String(), Timeout: 20 * time.Millisecond, Observer: obs})
	if err != nil {
		t.Fatal(err) // a failed ping starts degraded, not an error
	}
	defer r.Close()
	if _, _, ok := r.GetUser(t.Context(), "k"); ok {
		t.Fatal("a hit from a Redis that never answers")
	}
	obs.mu.Lock()
	defer obs.mu.Unlock()
	if len(obs.ups) != 1 || obs.ups[0] || obs.fallbacks["get_user"] != 1 {
		t.Fatalf("up/down %v, fallbacks %v; want down at start and the call not tried", obs.ups, obs.fallbacks)
	}
}

func TestBadURLIsAnErrorWithoutItsPassword(t *testing.T) {
	_, err := Connect(t.Context(), Options{URL: "http://user:s3cret@host:6379"})
	if err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("err %v", err)
	}
}

func newTextLogger(w *demo.LogBuffer) *slog.Logger { return slog.New(slog.NewTextHandler(w, nil)) }
