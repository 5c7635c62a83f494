package gqlhttp

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/koodrive/facade/graph"
	"github.com/koodrive/facade/graph/internal/gqltest"
	"github.com/koodrive/facade/koodrive/demo"
)

// httpCase is one raw HTTP request to /query and what the GraphQL-over-HTTP spec wants
// back. Fields named for application/json and application/graphql-response+json hold
// what differs between the two Accept types.
type httpCase struct {
	name        string
	method      string
	contentType string // of the request; "" sends none
	body        string
	query       url.Values // GET parameters
	// wantJSON and wantGQL are the statuses under each Accept type.
	wantJSON, wantGQL int
	wantData          bool   // a "data" key in the response
	wantCode          string // extensions.code of the first error; "" wants no errors
	wantAllow         string
}

const (
	acceptJSON = "application/json"
	acceptGQL  = "application/graphql-response+json"
)

func TestTransportStatusAndDataPerAcceptType(t *testing.T) {
	e := newEnv(t, envOptions{})
	cases := []httpCase{
		{name: "POST query", method: http.MethodPost, contentType: "application/json", body: `{"query":"{ viewer { userId } }"}`,
			wantJSON: 200, wantGQL: 200, wantData: true},
		{name: "POST query, charset utf-8, null parameters", method: http.MethodPost, contentType: "application/json; charset=utf-8",
			body:     `{"query":"query Q { viewer { userId } }","operationName":null,"variables":null,"extensions":null}`,
			wantJSON: 200, wantGQL: 200, wantData: true},
		{name: "GET query with variables", method: http.MethodGet,
			query:    url.Values{"query": {"query U($id: ID!) { user(userId: $id) { userId } }"}, "variables": {`{"id":"1008600000293202821"}`}},
			wantJSON: 200, wantGQL: 200, wantData: true},
		{name: "parse error", method: http.MethodPost, contentType: "application/json", body: `{"query":"{"}`,
			wantJSON: 200, wantGQL: 400, wantCode: "GRAPHQL_PARSE_FAILED"},
		{name: "parse error over GET", method: http.MethodGet, query: url.Values{"query": {"{"}},
			wantJSON: 200, wantGQL: 400, wantCode: "GRAPHQL_PARSE_FAILED"},
		{name: "validation error", method: http.MethodPost, contentType: "application/json", body: `{"query":"{ noSuchField }"}`,
			wantJSON: 200, wantGQL: 400, wantCode: "GRAPHQL_VALIDATION_FAILED"},
		{name: "unknown operationName", method: http.MethodPost, contentType: "application/json", body: `{"query":"query A { viewer { userId } }","operationName":"B"}`,
			wantJSON: 200, wantGQL: 400, wantCode: "GRAPHQL_VALIDATION_FAILED"},
		{name: "required variable null", method: http.MethodPost, contentType: "application/json",
			body:     `{"query":"query U($id: ID!) { user(userId: $id) { userId } }","variables":{"id":null}}`,
			wantJSON: 200, wantGQL: 400, wantCode: "GRAPHQL_VALIDATION_FAILED"},
		{name: "variable of the wrong type", method: http.MethodPost, contentType: "application/json",
			body:     `{"query":"query G($n: Int) { userGroups(first: $n) { totalCount } }","variables":{"n":"ten"}}`,
			wantJSON: 200, wantGQL: 400, wantCode: "GRAPHQL_VALIDATION_FAILED"},
		{name: "missing query", method: http.MethodPost, contentType: "application/json", body: `{"qeury":"{ viewer { userId } }"}`,
			wantJSON: 400, wantGQL: 400, wantCode: graph.CodeBadRequest},
		{name: "missing query over GET", method: http.MethodGet, query: url.Values{},
			wantJSON: 400, wantGQL: 400, wantCode: graph.CodeBadRequest},
		{name: "empty body", method: http.MethodPost, contentType: "application/json",
			wantJSON: 400, wantGQL: 400, wantCode: graph.CodeBadRequest},
		{name: "body not JSON", method: http.MethodPost, contentType: "application/json", body: `{ "not a JSON`,
			wantJSON: 400, wantGQL: 400, wantCode: graph.CodeBadRequest},
		{name: "body a JSON array", method: http.MethodPost, contentType: "application/json", body: `[{"query":"{ viewer { userId } }"}]`,
			wantJSON: 400, wantGQL: 400, wantCode: graph.CodeBadRequest},
		{name: "data after the JSON object", method: http.MethodPost, contentType: "application/json", body: `{"query":"{ viewer { userId } }"}}`,
			wantJSON: 400, wantGQL: 400, wantCode: graph.CodeBadRequest},
		{name: "query not a string", method: http.MethodPost, contentType: "application/json", body: `{"query":{"obj":"ect"}}`,
			wantJSON: 400, wantGQL: 400, wantCode: graph.CodeBadRequest},
		{name: "operationName not a string", method: http.MethodPost, contentType: "application/json", body: `{"query":"{ viewer { userId } }","operationName":false}`,
			wantJSON: 400, wantGQL: 400, wantCode: graph.CodeBadRequest},
		{name: "variables not an object", method: http.MethodPost, contentType: "application/json", body: `{"query":"{ viewer { userId } }","variables":["array"]}`,
			wantJSON: 400, wantGQL: 400, wantCode: graph.CodeBadRequest},
		{name: "extensions not an object", method: http.MethodPost, contentType: "application/json", body: `{"query":"{ viewer { userId } }","extensions":"string"}`,
			wantJSON: 400, wantGQL: 400, wantCode: graph.CodeBadRequest},
		{name: "GET variables not an object", method: http.MethodGet, query: url.Values{"query": {"{ viewer { userId } }"}, "variables": {`[1]`}},
			wantJSON: 400, wantGQL: 400, wantCode: graph.CodeBadRequest},
		{name: "mutation over GET", method: http.MethodGet, query: url.Values{"query": {"mutation { __typename }"}},
			wantJSON: 405, wantGQL: 405, wantCode: graph.CodeBadRequest, wantAllow: "POST"},
		{name: "mutation over GET chosen by operationName", method: http.MethodGet,
			query:    url.Values{"query": {"query Q { viewer { userId } } mutation M { __typename }"}, "operationName": {"M"}},
			wantJSON: 405, wantGQL: 405, wantCode: graph.CodeBadRequest, wantAllow: "POST"},
		{name: "subscription over GET", method: http.MethodGet, query: url.Values{"query": {"subscription { __typename }"}},
			wantJSON: 405, wantGQL: 405, wantCode: graph.CodeBadRequest, wantAllow: "POST"},
		{name: "PUT", method: http.MethodPut, contentType: "application/json", body: `{"query":"{ viewer { userId } }"}`,
			wantJSON: 405, wantGQL: 405, wantCode: graph.CodeBadRequest, wantAllow: "GET, POST"},
		{name: "DELETE", method: http.MethodDelete,
			wantJSON: 405, wantGQL: 405, wantCode: graph.CodeBadRequest, wantAllow: "GET, POST"},
		{name: "POST without Content-Type", method: http.MethodPost, body: `{"query":"{ viewer { userId } }"}`,
			wantJSON: 415, wantGQL: 415, wantCode: graph.CodeBadRequest},
		{name: "POST text/plain", method: http.MethodPost, contentType: "text/plain;charset=UTF-8", body: `{"query":"{ viewer { userId } }"}`,
			wantJSON: 415, wantGQL: 415, wantCode: graph.CodeBadRequest},
		{name: "POST form-urlencoded", method: http.MethodPost, contentType: "application/x-www-form-urlencoded", body: `query=%7B%20viewer%20%7B%20userId%20%7D%20%7D`,
			wantJSON: 415, wantGQL: 415, wantCode: graph.CodeBadRequest},
		{name: "POST multipart", method: http.MethodPost, contentType: "multipart/form-data; boundary=x", body: "--x--",
			wantJSON: 415, wantGQL: 415, wantCode: graph.CodeBadRequest},
		{name: "POST JSON in latin1", method: http.MethodPost, contentType: "application/json; charset=iso-8859-1", body: `{"query":"{ viewer { userId } }"}`,
			wantJSON: 415, wantGQL: 415, wantCode: graph.CodeBadRequest},
	}
	for _, tc := range cases {
		for _, accept := range []string{acceptJSON, acceptGQL} {
			t.Run(tc.name+"/"+accept, func(t *testing.T) {
				want := tc.wantJSON
				if accept == acceptGQL {
					want = tc.wantGQL
				}
				res := e.serveHTTP(tc, accept)
				body := res.Body.String()
				if res.Code != want {
					t.Fatalf("status %d, want %d: %s", res.Code, want, body)
				}
				// Refusals before negotiation are always application/json.
				wantType := accept
				if res.Code == http.StatusMethodNotAllowed && tc.method != http.MethodGet || res.Code == http.StatusUnsupportedMediaType {
					wantType = acceptJSON
				}
				if ct := res.Header().Get("Content-Type"); ct != wantType+"; charset=utf-8" {
					t.Errorf("Content-Type %q, want %s", ct, wantType)
				}
				if allow := res.Header().Get("Allow"); allow != tc.wantAllow {
					t.Errorf("Allow %q, want %q", allow, tc.wantAllow)
				}
				var resp struct {
					Data   json.RawMessage `json:"data"`
					Errors []gqltest.Error `json:"errors"`
				}
				if err := json.Unmarshal(res.Body.Bytes(), &resp); err != nil {
					t.Fatalf("body is not JSON: %v: %s", err, body)
				}
				if hasData := resp.Data != nil; hasData != tc.wantData {
					t.Errorf("data entry present: %v, want %v: %s", hasData, tc.wantData, body)
				}
				if tc.wantData && strings.Contains(string(resp.Data), "null") {
					t.Errorf("data %s has nulls: the request did not run as it should", resp.Data)
				}
				switch {
				case tc.wantCode == "" && len(resp.Errors) > 0:
					t.Errorf("unexpected errors: %s", body)
				case tc.wantCode != "" && (len(resp.Errors) == 0 || resp.Errors[0].Code() != tc.wantCode):
					t.Errorf("want an error with code %s: %s", tc.wantCode, body)
				}
			})
		}
	}
}

// serveHTTP sends tc with the demo caller's credentials and the given Accept.
func (e *testEnv) serveHTTP(tc httpCase, accept string) *httptest.ResponseRecorder {
	target := "/query"
	if tc.query != nil {
		target += "?" + tc.query.Encode()
	}
	req := httptest.NewRequest(tc.method, target, strings.NewReader(tc.body))
	req.Header = http.Header{"Authorization": {demo.Authorization}, "X-User-Id": {e.Up.CallerID()}}
	if tc.contentType != "" {
		req.Header.Set("Content-Type", tc.contentType)
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	res := httptest.NewRecorder()
	e.Handler.ServeHTTP(res, req)
	return res
}

// Decoding errors name what is wrong, never the body: it may carry tokens or data.
func TestTransportDoesNotEchoTheBody(t *testing.T) {
	e := newEnv(t, envOptions{})
	const secret = "s3cret-marker"
	for _, body := range []string{
		`{"query":"{ viewer { userId } }", "` + secret,
		`{"query":{"` + secret + `":1}}`,
		`{"query":"{ viewer { userId } }","variables":"` + secret + `"}`,
		`{"query":"{ viewer { userId } }"} ` + secret,
		secret,
	} {
		res := e.serveHTTP(httpCase{method: http.MethodPost, contentType: "application/json", body: body}, acceptJSON)
		if res.Code != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400: %s", body, res.Code, res.Body)
		}
		if strings.Contains(res.Body.String(), secret) {
			t.Errorf("%s: the response echoes the body: %s", body, res.Body)
		}
	}
	if strings.Contains(e.Logs.String(), secret) {
		t.Errorf("the logs hold a request body:\n%s", e.Logs)
	}
}

func TestResponseMediaType(t *testing.T) {
	for _, tc := range []struct {
		accept []string
		want   string // "" for 406
	}{
		{nil, acceptJSON},
		{[]string{"*/*"}, acceptJSON},
		{[]string{"application/*"}, acceptJSON},
		{[]string{"application/json"}, acceptJSON},
		{[]string{"application/graphql-response+json"}, acceptGQL},
		{[]string{"application/graphql-response+json, application/json, multipart/mixed"}, acceptGQL}, // GraphiQL
		{[]string{"application/graphql-response+json,application/json;q=0.9"}, acceptGQL},             // Apollo Client
		{[]string{"application/json, application/graphql-response+json"}, acceptJSON},
		{[]string{"application/json;q=0.5, application/graphql-response+json"}, acceptGQL},
		{[]string{"application/graphql-response+json;q=0.5, */*"}, acceptJSON},
		{[]string{"application/json;q=0, */*"}, acceptGQL},
		{[]string{"text/html", "application/graphql-response+json"}, acceptGQL},
		{[]string{"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}, acceptJSON}, // a browser
		{[]string{"text/html"}, ""},
		{[]string{"application/json;q=0"}, ""},
		{[]string{"application/json;q=x"}, ""},
	} {
		h := http.Header{"Accept": tc.accept}
		got, ok := responseMediaType(h)
		if ok != (tc.want != "") || got != tc.want {
			t.Errorf("Accept %q: got %q, %v; want %q", tc.accept, got, ok, tc.want)
		}
	}
}

func TestTransportRefusesUnacceptableAccept(t *testing.T) {
	e := newEnv(t, envOptions{})
	for _, tc := range []httpCase{
		{method: http.MethodPost, contentType: "application/json", body: `{"query":"{ viewer { userId } }"}`},
		{method: http.MethodGet, query: url.Values{"query": {"{ viewer { userId } }"}}},
	} {
		res := e.serveHTTP(tc, "text/html")
		if res.Code != http.StatusNotAcceptable || res.Header().Get("Content-Type") != acceptJSON+"; charset=utf-8" {
			t.Errorf("%s: status %d, Content-Type %q; want 406 in application/json: %s", tc.method, res.Code, res.Header().Get("Content-Type"), res.Body)
		}
	}
}

// TestWriteResultIsJSONMarshal: the spliced response is json.Marshal's, byte for byte,
// for data with characters json.Marshal escapes, errors and extensions.
func TestWriteResultIsJSONMarshal(t *testing.T) {
	data := json.RawMessage(`{"userGroups":{"edges":[{"node":{"name":"<b>R&D</b> \u2028 ok","owner":null}}]}}`)
	errs := gqlerror.List{{Message: "owner <failed>", Path: ast.Path{ast.PathName("userGroups"), ast.PathIndex(0)}, Extensions: map[string]any{"code": "UPSTREAM_ERROR"}}}
	for name, resp := range map[string]*graphql.Response{
		"data":                    {Data: data},
		"data and errors":         {Data: data, Errors: errs},
		"data, errors, extension": {Data: data, Errors: errs, Extensions: map[string]any{"traceId": "t<1>"}},
		"no data":                 {Errors: errs},
		"null data":               {Data: json.RawMessage(`null`), Errors: errs},
	} {
		rec := httptest.NewRecorder()
		writeResult(rec, nil, mediaJSON, resp, nil)
		want, err := json.Marshal(resp)
		if err != nil {
			t.Fatal(err)
		}
		if got := rec.Body.String(); got != string(want) {
			t.Errorf("%s:\n got %s\nwant %s", name, got, want)
		}
		if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != mediaJSON+"; charset=utf-8" {
			t.Errorf("%s: status %d, content type %q", name, rec.Code, rec.Header().Get("Content-Type"))
		}
	}
}

// TestValidationErrorsAreNotRepeated: gqlparser reports an error inside a named fragment
// twice; a client reads it once.
func TestValidationErrorsAreNotRepeated(t *testing.T) {
	e := newEnv(t, envOptions{})
	for q, want := range map[string]int{
		`{ viewer { ...V } } fragment V on User { nme }`:                            1,
		`{ viewer { ...V } } fragment V on User { ... on User @foo { name } }`:      1,
		`{ viewer { ...V } } fragment V on User { nme dept }`:                       2,
		`{ viewer { ...V } user(userId: "1") { ...V } } fragment V on User { nme }`: 1,
	} {
		errs, raw := e.Do(t, q, nil, e.As()...)
		if len(errs) != want {
			t.Errorf("%s: %d errors, want %d: %s", q, len(errs), want, raw)
		}
	}
}
