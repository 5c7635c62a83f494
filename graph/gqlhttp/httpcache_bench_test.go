package gqlhttp

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
)

// BenchmarkHTTPCaching: the same page of 50 groups with owners by POST (no validator),
// by GET (an ETag of the data), and by GET with that ETag (304, no body). The GET/POST
// difference is what the ETag costs.
//
//	go test -run '^$' -bench HTTPCaching -benchmem ./graph/gqlhttp/
func BenchmarkHTTPCaching(b *testing.B) {
	e := newEnv(b, envOptions{})
	const query = `{ userGroups(first: 50) { nodes { groupId name owner { userId name } } } }`
	post := func() *httptest.ResponseRecorder { return postQuery(e, query) }
	params := url.Values{"query": {query}}
	tag := getQuery(e, params, nil).Header().Get("ETag")
	if tag == "" || post().Code != 200 {
		b.Fatal("no ETag or a failed POST")
	}
	for name, run := range map[string]func() int{
		"POST":                   func() int { return post().Code },
		"GET":                    func() int { return getQuery(e, params, nil).Code },
		"GET_If-None-Match(304)": func() int { return getQuery(e, params, map[string]string{"If-None-Match": tag}).Code },
	} {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				if code := run(); code != 200 && code != http.StatusNotModified {
					b.Fatalf("status %d", code)
				}
			}
		})
	}
}
