package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/koodrive/facade/graph"
	"github.com/koodrive/facade/graph/gqlhttp"
	"github.com/koodrive/facade/koodrive"
	"github.com/koodrive/facade/koodrive/demo"
)

// FuzzQueryEndpoint sends arbitrary requests to /query of the handler server.go builds,
// in demo mode in front of the demo KooDrive: no input may panic, give a 5xx, answer a
// 200 that is not a GraphQL response, or show the demo token.
// Run: go test -run '^$' -fuzz '^FuzzQueryEndpoint$' -parallel 2 .
func FuzzQueryEndpoint(f *testing.F) {
	up := demo.New(demo.Options{})
	upstream := httptest.NewServer(up)
	f.Cleanup(upstream.Close)
	kd, err := koodrive.New(upstream.URL, koodrive.WithTimeout(2*time.Second))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(kd.CloseIdleConnections)
	// The defaults of `go run .`, with run's options, in demo mode.
	cfg, err := parseConfig(nil, func(string) string { return "" })
	if err != nil {
		f.Fatal(err)
	}
	cfg.RequestTimeout = 5 * time.Second
	logs := &demo.LogBuffer{}
	demoCaller := &koodrive.Caller{Authorization: demo.Authorization, UserID: up.CallerID()}
	opts := gqlhttp.Options{RequestTimeout: cfg.RequestTimeout, Limits: cfg.Limits, DisableIntrospection: !cfg.Introspection, DemoCaller: demoCaller}
	log := slog.New(slog.NewTextHandler(logs, nil))
	handler := newMux(cfg, gqlhttp.New(graph.New(kd, log, graph.Options{}), log, opts), demoCaller)
	secrets := append([]string{demo.Token}, up.Mobiles()...)

	const (
		viewer     = `{ viewer { userId name deptName } }`
		page       = `query P($first: Int, $after: String) { userGroups(first: $first, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { cursor node { groupId name createdTime owner { userId name } } } } }`
		introspect = `{ __schema { queryType { name } types { name kind fields { name args { name type { name kind ofType { name } } } } } } }`
	)
	postJSON := func(query string, variables any) []byte {
		b, _ := json.Marshal(map[string]any{"query": query, "variables": variables})
		return b
	}
	for _, seed := range []struct {
		method, contentType, rawQuery string
		body                          []byte
	}{
		{"POST", "application/json", "", postJSON(viewer, nil)},
		{"GET", "", "query=" + url.QueryEscape(viewer), nil},
		{"GET", "", "query=" + url.QueryEscape(page) + "&variables=" + url.QueryEscape(`{"first":3}`), nil},
		{"POST", "application/json; charset=utf-8", "", postJSON(page, map[string]any{"first": 2, "after": "eyJmIjoieCJ9"})},
		{"POST", "application/json", "", postJSON(`{ userGroups(first: 2, groupName: "platform", sourceType: GROUP) { nodes { name } } node(id: "VXNlcjoxMDA4NjAwMDAwMjkzMjAyODIx") { id ... on User { userId } } }`, nil)},
		{"POST", "application/json", "", postJSON(`{ user(userId: "1008600000293202821") { mobile } a: user(userId: "x") { name } }`, nil)},
		{"POST", "application/json", "", postJSON(introspect, nil)},
		{"POST", "application/json", "", postJSON(`query($f: Int) { userGroups(first: $f) { totalCount } }`, map[string]any{"f": 1e100})},
		{"POST", "application/json", "", postJSON(`{ userGroups(first: 99999999999) { totalCount } }`, nil)},
		{"POST", "application/json", "", postJSON(`query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": []any{1, "x", nil}})},
		{"POST", "application/json", "", []byte(`{"query":"{ viewer { name } }","extensions":{"persistedQuery":{"version":1,"sha256Hash":"0000"}}}`)},
		{"POST", "application/json", "", []byte(`{"query": "{ viewer { name }`)},
		{"POST", "application/json", "", []byte(`{"query": 5, "variables": "x", "operationName": []}`)},
		{"POST", "application/json", "", []byte(`[{"query":"{ viewer { name } }"}]`)},
		{"POST", "application/json", "", []byte(`{"query":"{ viewer { name } }","variables":` + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + `}`)},
		{"POST", "application/json", "", postJSON(strings.Repeat("{ viewer ", 500)+strings.Repeat("}", 500), nil)},
		{"POST", "application/json", "", postJSON(`query { `+strings.Repeat(`userGroups(first: 100) { nodes { owner { name } } } `, 3)+`}`, nil)},
		{"POST", "application/json", "", postJSON(`fragment A on Query { viewer { name } } query { ...A ...A }`, nil)},
		{"POST", "application/json", "", postJSON(`query A { viewer { name } } query B { viewer { userId } }`, nil)},
		{"POST", "text/plain", "", postJSON(viewer, nil)},
		{"POST", "multipart/form-data; boundary=x", "", []byte("--x\r\nContent-Disposition: form-data; name=\"operations\"\r\n\r\n{}\r\n--x--\r\n")},
		{"PUT", "application/json", "", postJSON(viewer, nil)},
		{"OPTIONS", "application/json\r\nOrigin: https://evil.example\r\nAccess-Control-Request-Method: POST", "", nil},
		{"GET", "application/json\r\nAuthorization: Bearer+other\r\nX-User-Id: 12", "query=" + url.QueryEscape(viewer), nil},
		{"GET", "", "query=%zz&variables=%7B", nil},
		{"GET", "application/json\r\nAccept: application/graphql-response+json;q=0.9, */*;q=0.1", "query=" + url.QueryEscape(`{ viewer { nope } }`), nil},
		{"GET", "", "query=" + url.QueryEscape(`mutation { x }`) + "&operationName=", nil},
		{"GET", "", "extensions=" + url.QueryEscape(`{"persistedQuery":{"version":1,"sha256Hash":"abc"}}`), nil},
		{"POST", "application/json\r\nAccept: text/html", "", postJSON(viewer, nil)},
		{"POST", "application/json; charset=latin1", "", postJSON(viewer, nil)},
		{"POST", "application/json", "", []byte(`{"query":"{ viewer { name } }"} {"query":"x"}`)},
		{"POST", "application/json", "", []byte("\xff\xfe{}")},
		{"POST", "application/json", "", nil},
	} {
		f.Add(seed.method, seed.contentType, seed.rawQuery, seed.body)
	}

	f.Fuzz(func(t *testing.T, method, contentType, rawQuery string, body []byte) {
		// The request as it comes off the wire: what net/http cannot parse never
		// reaches the handler.
		var wire bytes.Buffer
		wire.WriteString(method + " /query?" + rawQuery + " HTTP/1.1\r\nHost: facade.test\r\n")
		if contentType != "" {
			wire.WriteString("Content-Type: " + contentType + "\r\n")
		}
		wire.WriteString("Content-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n")
		wire.Write(body)
		req, err := http.ReadRequest(bufio.NewReader(&wire))
		if err != nil || req.URL.Path != "/query" || !validMethod(req.Method) {
			return
		}
		req.RemoteAddr = "192.0.2.1:1234"
		input := method + contentType + rawQuery + string(body)

		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		resp := rec.Result()
		out := rec.Body.Bytes()
		logged := logs.Take()

		if resp.StatusCode >= 500 {
			t.Fatalf("%s %q (Content-Type %q): status %d: %s", req.Method, rawQuery, contentType, resp.StatusCode, out)
		}
		if ct := resp.Header.Get("Content-Type"); strings.Contains(ct, "json") && !json.Valid(out) {
			t.Fatalf("status %d with Content-Type %q and a body that is not JSON: %q", resp.StatusCode, ct, out)
		}
		var gql struct {
			Data   *json.RawMessage `json:"data"`
			Errors []struct {
				Extensions map[string]any `json:"extensions"`
			} `json:"errors"`
		}
		gqlErr := json.Unmarshal(out, &gql)
		if resp.StatusCode == http.StatusOK && (gqlErr != nil || (gql.Data == nil && gql.Errors == nil)) {
			t.Fatalf("200 that is not a GraphQL response (%v): %q", gqlErr, out)
		}
		for _, e := range gql.Errors {
			if e.Extensions["code"] == graph.CodeInternal {
				t.Fatalf("client input gave INTERNAL_SERVER_ERROR (status %d): %s\nlogs: %s", resp.StatusCode, out, logged)
			}
		}
		// An input may be echoed back, in a parse error say: only what it does not
		// carry counts as a leak. Mobile numbers are data in responses, never in logs.
		if !strings.Contains(input, demo.Token) {
			for name, values := range resp.Header {
				if strings.Contains(strings.Join(values, " "), demo.Token) {
					t.Fatalf("response header %s carries the demo token", name)
				}
			}
			if bytes.Contains(out, []byte(demo.Token)) {
				t.Fatalf("response carries the demo token: %s", out)
			}
		}
		for _, s := range secrets {
			if !strings.Contains(input, s) && strings.Contains(logged, s) {
				t.Fatalf("logs carry a secret %q: %s", s, logged)
			}
		}
	})
}

// validMethod: a method net/http's server would pass on (an RFC 9110 token).
func validMethod(m string) bool {
	if m == "" {
		return false
	}
	for _, c := range m {
		if c <= ' ' || c >= 0x7f || strings.ContainsRune(`"(),/:;<=>?@[\]{}`, c) {
			return false
		}
	}
	return true
}
