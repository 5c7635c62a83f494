package graph

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/99designs/gqlgen/client"

	"github.com/koodrive/facade/koodrive"
	"github.com/koodrive/facade/koodrive/demo"
)

const viewerAndPage = `{ viewer { userId } userGroups(first: 5) { nodes { owner { userId } } } }`

func TestNoCredentialsRefusedBeforeAnyUpstreamCall(t *testing.T) {
	e := newEnv(t, envOptions{}) // no DemoCaller: a real upstream
	cases := map[string][]client.Option{
		"none":           nil,
		"token only":     {client.AddHeader("Authorization", demo.Authorization)},
		"user only":      {client.AddHeader("X-User-Id", e.up.CallerID())},
		"basic auth":     {client.AddHeader("Authorization", "Basic abc"), client.AddHeader("X-User-Id", e.up.CallerID())},
		"empty bearer":   {client.AddHeader("Authorization", "Bearer "), client.AddHeader("X-User-Id", e.up.CallerID())},
		"non-numeric id": {client.AddHeader("Authorization", demo.Authorization), client.AddHeader("X-User-Id", "admin")},
	}
	for name, opts := range cases {
		t.Run(name, func(t *testing.T) {
			errs, raw := e.do(t, viewerAndPage, nil, opts...)
			if len(errs) != 2 || errs[0].code() != CodeUnauthenticated || errs[1].code() != CodeUnauthenticated {
				t.Fatalf("want UNAUTHENTICATED on both fields: %s", raw)
			}
		})
	}
	if n := e.up.Calls(); n != 0 {
		t.Fatalf("%d upstream calls without credentials", n)
	}
}

func TestBothBearerFormsAccepted(t *testing.T) {
	e := newEnv(t, envOptions{})
	for _, auth := range []string{"Bearer " + demo.Token, "Bearer+" + demo.Token} {
		var got struct{ Viewer struct{ UserID string } }
		errs, raw := e.do(t, `{ viewer { userId } }`, &got,
			client.AddHeader("Authorization", auth), client.AddHeader("X-User-Id", e.up.CallerID()))
		if len(errs) > 0 || got.Viewer.UserID != e.up.CallerID() {
			t.Fatalf("%q: %s", auth, raw)
		}
	}
}

func TestDemoCallerStandsInForMissingCredentials(t *testing.T) {
	e := newEnv(t, envOptions{})
	e2 := newEnv(t, envOptions{graph: Options{DemoCaller: &koodrive.Caller{Authorization: demo.Authorization, UserID: e.up.CallerID()}}})
	var got struct{ Viewer struct{ UserID string } }
	errs, raw := e2.do(t, `{ viewer { userId } }`, &got)
	if len(errs) > 0 || got.Viewer.UserID != e.up.CallerID() {
		t.Fatalf("demo caller: %s", raw)
	}
	// Credentials that are sent are used, not replaced by the demo caller's.
	errs, _ = e2.do(t, `{ viewer { userId } }`, nil, client.AddHeader("Authorization", "Bearer wrong"), client.AddHeader("X-User-Id", e.up.CallerID()))
	expectCode(t, errs, CodeUnauthenticated)
}

func TestUpstreamRefusalsMapToCodes(t *testing.T) {
	e := newEnv(t, envOptions{})
	errs, raw := e.do(t, `{ viewer { userId } }`, nil, client.AddHeader("Authorization", "Bearer stolen-token"), client.AddHeader("X-User-Id", e.up.CallerID()))
	got := expectCode(t, errs, CodeUnauthenticated)
	if up, _ := got.Extensions["upstream"].(map[string]any); up["status"] != float64(401) || strings.Contains(raw, "stolen-token") {
		t.Fatalf("upstream 401: %s", raw)
	}
	for _, tc := range []struct {
		status int
		code   string
	}{{403, CodeForbidden}, {502, CodeUpstreamError}, {504, CodeUpstreamTimeout}} {
		status, code := tc.status, tc.code
		e := newEnv(t, envOptions{koodrive: []koodrive.Option{koodrive.WithRetryPolicy(koodrive.RetryPolicy{})}})
		e.up.Intercept(func(w http.ResponseWriter, r *http.Request) bool {
			w.WriteHeader(status)
			w.Write([]byte("<html>proxy error</html>"))
			return true
		})
		errs, raw := e.do(t, `{ userGroups { totalCount } }`, nil, e.as()...)
		expectCode(t, errs, code)
		if strings.Contains(raw, "proxy error") || !strings.Contains(raw, `"Data":null`) {
			t.Fatalf("status %d: %s", status, raw)
		}
	}
	e.up.Intercept(func(w http.ResponseWriter, r *http.Request) bool {
		w.Write([]byte(`{"code":5001,"msg":"quota exceeded"}`)) // 200 with a failure code
		return true
	})
	errs, _ = e.do(t, `{ userGroups { totalCount } }`, nil, e.as()...)
	if up, _ := expectCode(t, errs, CodeUpstreamError).Extensions["upstream"].(map[string]any); up["code"] != float64(5001) || up["message"] != "quota exceeded" {
		t.Fatalf("200 with code 5001: %+v", errs)
	}
}

func TestUpstreamTimeout(t *testing.T) {
	e := newEnv(t, envOptions{timeout: 50 * time.Millisecond})
	e.up.Intercept(func(w http.ResponseWriter, r *http.Request) bool {
		select {
		case <-r.Context().Done():
		case <-time.After(2 * time.Second):
		}
		return true
	})
	errs, _ := e.do(t, `{ viewer { userId } }`, nil, e.as()...)
	expectCode(t, errs, CodeUpstreamTimeout)
}

func TestTraceIDAndLanguageForwarded(t *testing.T) {
	e := newEnv(t, envOptions{})
	var mu sync.Mutex
	langs := map[string]int{}
	e.up.Intercept(func(w http.ResponseWriter, r *http.Request) bool {
		mu.Lock()
		langs[r.Header.Get("language")]++
		mu.Unlock()
		return false
	})
	capture := func(r *client.Request) { r.HTTP.Header.Set("Accept-Language", "de-DE,de;q=0.9,en;q=0.5") }
	resp, err := e.client.RawPost(viewerAndPage, append(e.as(), client.AddHeader("X-Traceid", "client-trace-42"), capture)...)
	if err != nil || resp.Errors != nil {
		t.Fatalf("%v %s", err, resp.Errors)
	}
	traces := e.up.TraceIDs()
	if len(traces) != 1 || traces["client-trace-42"] < 2 {
		t.Fatalf("trace ids seen upstream: %v", traces)
	}
	if len(langs) != 1 || langs["de-DE"] < 2 {
		t.Fatalf("languages seen upstream: %v", langs)
	}

	// Without one, every call of a request carries the same generated id, and a
	// malformed client id is replaced rather than forwarded.
	e2 := newEnv(t, envOptions{})
	e2.mustDo(t, viewerAndPage, nil, client.AddHeader("X-Traceid", "bad id\twith tab"))
	traces = e2.up.TraceIDs()
	if len(traces) != 1 {
		t.Fatalf("want one trace id per request, got %v", traces)
	}
	for id := range traces {
		if !safeTraceID.MatchString(id) || strings.Contains(id, "bad") {
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
