package gqlhttp

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/99designs/gqlgen/client"

	"github.com/koodrive/facade/graph"
	"github.com/koodrive/facade/graph/internal/gqltest"
	"github.com/koodrive/facade/koodrive"
	"github.com/koodrive/facade/koodrive/demo"
)

const viewerAndPage = `{ viewer { userId } userGroups(first: 5) { nodes { owner { userId } } } }`

func TestNoCredentialsRefusedBeforeAnyUpstreamCall(t *testing.T) {
	e := newEnv(t, envOptions{}) // no DemoCaller: a real upstream
	cases := []struct {
		name string
		opts []client.Option
		says string // what the message names
	}{
		{"none", nil, "Authorization header is missing"},
		{"token only", []client.Option{client.AddHeader("Authorization", demo.Authorization)}, "X-User-Id header is missing"},
		{"user only", []client.Option{client.AddHeader("X-User-Id", e.Up.CallerID())}, "Authorization header is missing"},
		{"basic auth", []client.Option{client.AddHeader("Authorization", "Basic abc"), client.AddHeader("X-User-Id", e.Up.CallerID())}, "Authorization header is malformed"},
		{"empty bearer", []client.Option{client.AddHeader("Authorization", "Bearer "), client.AddHeader("X-User-Id", e.Up.CallerID())}, "Authorization header is malformed"},
		{"non-numeric id", []client.Option{client.AddHeader("Authorization", demo.Authorization), client.AddHeader("X-User-Id", "admin")}, "X-User-Id header is malformed"},
		{"id too long", []client.Option{client.AddHeader("Authorization", demo.Authorization), client.AddHeader("X-User-Id", strings.Repeat("1", 20))}, "X-User-Id header is malformed"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			errs, raw := e.Do(t, viewerAndPage, nil, tc.opts...)
			if len(errs) != 2 || errs[0].Code() != graph.CodeUnauthenticated || errs[1].Code() != graph.CodeUnauthenticated {
				t.Fatalf("want UNAUTHENTICATED on both fields: %s", raw)
			}
			if !strings.Contains(errs[0].Message, tc.says) || strings.Contains(raw, demo.Token) {
				t.Fatalf("message %q, want it to say %q (and nothing sent back)", errs[0].Message, tc.says)
			}
		})
	}
	if n := e.Up.Calls(); n != 0 {
		t.Fatalf("%d upstream calls without credentials", n)
	}
}

func TestBothBearerFormsAccepted(t *testing.T) {
	e := newEnv(t, envOptions{})
	for _, auth := range []string{"Bearer " + demo.Token, "Bearer+" + demo.Token} {
		var got struct{ Viewer struct{ UserID string } }
		errs, raw := e.Do(t, `{ viewer { userId } }`, &got,
			client.AddHeader("Authorization", auth), client.AddHeader("X-User-Id", e.Up.CallerID()))
		if len(errs) > 0 || got.Viewer.UserID != e.Up.CallerID() {
			t.Fatalf("%q: %s", auth, raw)
		}
	}
}

func TestDemoCallerStandsInForMissingCredentials(t *testing.T) {
	e := newEnv(t, envOptions{})
	e2 := newEnv(t, envOptions{edge: Options{DemoCaller: &koodrive.Caller{Authorization: demo.Authorization, UserID: e.Up.CallerID()}}})
	var got struct{ Viewer struct{ UserID string } }
	errs, raw := e2.Do(t, `{ viewer { userId } }`, &got)
	if len(errs) > 0 || got.Viewer.UserID != e.Up.CallerID() {
		t.Fatalf("demo caller: %s", raw)
	}
	// Credentials that are sent are used, not replaced by the demo caller's.
	errs, _ = e2.Do(t, `{ viewer { userId } }`, nil, client.AddHeader("Authorization", "Bearer wrong"), client.AddHeader("X-User-Id", e.Up.CallerID()))
	gqltest.ExpectCode(t, errs, graph.CodeUnauthenticated)
}

func TestUpstreamRefusalsMapToCodes(t *testing.T) {
	e := newEnv(t, envOptions{})
	errs, raw := e.Do(t, `{ viewer { userId } }`, nil, client.AddHeader("Authorization", "Bearer stolen-token"), client.AddHeader("X-User-Id", e.Up.CallerID()))
	got := gqltest.ExpectCode(t, errs, graph.CodeUnauthenticated)
	if up, _ := got.Extensions["upstream"].(map[string]any); up["status"] != float64(401) || strings.Contains(raw, "stolen-token") {
		t.Fatalf("upstream 401: %s", raw)
	}
	for _, tc := range []struct {
		status int
		code   string
	}{{403, graph.CodeForbidden}, {502, graph.CodeUpstreamError}, {504, graph.CodeUpstreamTimeout}} {
		status, code := tc.status, tc.code
		e := newEnv(t, envOptions{koodrive: []koodrive.Option{koodrive.WithRetryPolicy(koodrive.RetryPolicy{})}})
		e.Up.Intercept(func(w http.ResponseWriter, r *http.Request) bool {
			w.WriteHeader(status)
			w.Write([]byte("<html>proxy error</html>"))
			return true
		})
		errs, raw := e.Do(t, `{ userGroups { totalCount } }`, nil, e.As()...)
		gqltest.ExpectCode(t, errs, code)
		if strings.Contains(raw, "proxy error") || !strings.Contains(raw, `"data":null`) {
			t.Fatalf("status %d: %s", status, raw)
		}
	}
	e.Up.Intercept(func(w http.ResponseWriter, r *http.Request) bool {
		w.Write([]byte(`{"code":5001,"msg":"quota exceeded"}`)) // 200 with a failure code
		return true
	})
	errs, _ = e.Do(t, `{ userGroups { totalCount } }`, nil, e.As()...)
	if up, _ := gqltest.ExpectCode(t, errs, graph.CodeUpstreamError).Extensions["upstream"].(map[string]any); up["code"] != float64(5001) || up["message"] != "quota exceeded" {
		t.Fatalf("200 with code 5001: %+v", errs)
	}
}

func TestUpstreamTimeout(t *testing.T) {
	e := newEnv(t, envOptions{timeout: 50 * time.Millisecond})
	e.Up.Intercept(func(w http.ResponseWriter, r *http.Request) bool {
		select {
		case <-r.Context().Done():
		case <-time.After(2 * time.Second):
		}
		return true
	})
	errs, _ := e.Do(t, `{ viewer { userId } }`, nil, e.As()...)
	gqltest.ExpectCode(t, errs, graph.CodeUpstreamTimeout)
}

func TestTraceIDAndLanguageForwarded(t *testing.T) {
	e := newEnv(t, envOptions{})
	var mu sync.Mutex
	langs := map[string]int{}
	e.Up.Intercept(func(w http.ResponseWriter, r *http.Request) bool {
		mu.Lock()
		langs[r.Header.Get("language")]++
		mu.Unlock()
		return false
	})
	capture := func(r *client.Request) { r.HTTP.Header.Set("Accept-Language", "de-DE,de;q=0.9,en;q=0.5") }
	resp, err := e.client.RawPost(viewerAndPage, append(e.As(), client.AddHeader("X-Traceid", "client-trace-42"), capture)...)
	if err != nil || resp.Errors != nil {
		t.Fatalf("%v %s", err, resp.Errors)
	}
	traces := e.Up.TraceIDs()
	if len(traces) != 1 || traces["client-trace-42"] < 2 {
		t.Fatalf("trace ids seen upstream: %v", traces)
	}
	if len(langs) != 1 || langs["de-DE"] < 2 {
		t.Fatalf("languages seen upstream: %v", langs)
	}

	// Without one, every call of a request carries the same generated id, and a
	// malformed client id is replaced rather than forwarded.
	e2 := newEnv(t, envOptions{})
	e2.MustDo(t, viewerAndPage, nil, client.AddHeader("X-Traceid", "bad id\twith tab"))
	traces = e2.Up.TraceIDs()
	if len(traces) != 1 {
		t.Fatalf("want one trace id per request, got %v", traces)
	}
	for id := range traces {
		// Not "bad": a generated hex id holds it once in ~140 runs. "tab" cannot be hex.
		if !safeTraceID.MatchString(id) || strings.Contains(id, "tab") {
			t.Fatalf("generated trace id %q", id)
		}
	}
}

func TestLanguageHeaderPreferred(t *testing.T) {
	h := http.Header{}
	if got := language(h); got != "" {
		t.Fatalf("no header: %q", got)
	}
	h.Set("Accept-Language", "fr-CH, fr;q=0.9")
	if got := language(h); got != "fr-CH" {
		t.Fatalf("Accept-Language: %q", got)
	}
	h.Set("language", "zh-CN")
	if got := language(h); got != "zh-CN" {
		t.Fatalf("language: %q", got)
	}
	h.Set("language", "<script>")
	if got := language(h); got != "fr-CH" {
		t.Fatalf("malformed language falls back: %q", got)
	}
}
