package koodrive

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"math"
	"net/http"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

const (
	fuzzToken   = "secret-token"
	fuzzMarker  = "LEAKMARK" // planted in bodies: must never reach Error() but as the upstream msg
	fuzzMaxBody = 512
)

// fuzzUpstream answers every request with one status and body, and counts requests.
type fuzzUpstream struct {
	status int
	body   []byte
	calls  atomic.Int64
	token  atomic.Bool // every request carried the caller's Authorization
}

func (u *fuzzUpstream) RoundTrip(req *http.Request) (*http.Response, error) {
	u.calls.Add(1)
	u.token.Store(req.Header.Get("Authorization") == "Bearer "+fuzzToken)
	return &http.Response{
		StatusCode:    u.status,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        http.Header{"Content-Type": {"application/json"}},
		Body:          io.NopCloser(bytes.NewReader(u.body)),
		ContentLength: int64(len(u.body)),
		Request:       req,
	}, nil
}

// FuzzEnvelope: whatever status and body KooDrive answers with, both methods either
// succeed with a result or fail with an *Error that keeps the status and the upstream
// code, and whose text carries neither the token nor the body.
// Run: go test -run '^$' -fuzz '^FuzzEnvelope$' ./koodrive
func FuzzEnvelope(f *testing.F) {
	for _, seed := range []struct {
		status int
		body   string
	}{
		{200, `{"code":0,"msg":"OK","data":{}}`},
		{200, `{"data":{"id":"1316083732377070977","orgId":"9190086000001210958","userId":"1008600000293202821","deptId":"1243693141656107521","deptName":"newDept","mobile":"0086181****8439","name":"Sam","role":1,"status":0},"code":0,"msg":"success"}`},
		{200, `{"code":0,"msg":"OK","userGroupList":[{"id":"1","groupName":"LEAKMARK g","ownerId":"2","createdTime":"2024-04-25T06:49:49.000Z","updatedTime":null}],"nextCursor":"Y3Vy","total":1}`},
		{200, `{"code":0,"msg":"OK","userGroupList":[{"id":"1","createdTime":"LEAKMARK"}]}`},
		{200, `{"code":0,"data":null}`},
		{200, `{"code":0}`},
		{200, `{"code":0,"data":[]}`},
		{200, `{"code":0,"data":"LEAKMARK"}`},
		{200, `{"code":0,"data":{"role":"LEAKMARK"}}`},
		{200, `{"code":0,"data":{},"DATA":null}`},
		{200, `{"code":0,"Data":{"NAME":"LEAKMARK"}}`},
		{200, `{"code":0,"msg":5,"data":{}}`},
		{200, `{"code":1001,"msg":"LEAKMARK bad token"}`},
		{200, `{"code":"0","msg":"LEAKMARK"}`},
		{200, `{"code":0.5,"msg":"LEAKMARK"}`},
		{200, `{"code":-0,"data":{}} trailing LEAKMARK`},
		{200, `LEAKMARK not json`},
		{200, ``},
		{204, ``},
		{299, `{"code":0,"data":{"name":"x"}}`},
		{401, `{"code":1001,"msg":"invalid access token","detail":"LEAKMARK"}`},
		{403, `<html>LEAKMARK</html>`},
		{404, `404 page not found LEAKMARK`},
		{408, `{"code":0}`},
		{429, `{"code":429,"msg":"slow down"}`},
		{500, `<html><body><pre>LEAKMARK</pre></body></html>`},
		{502, `{"code":0,"msg":"OK","data":{}}`},
		{504, `{"code":5004,"msg":"gateway timeout"}`},
		{301, `moved LEAKMARK`},
		{101, `{"code":0,"data":{}}`},
		{200, `{"code":0,"msg":"OK","data":{"name":"` + strings.Repeat("LEAKMARK", 80) + `"}}`},
		{404, strings.Repeat("LEAKMARK", 100)},
		{0, `{"code":0,"data":{}}`},
		{-1, `{"code":0,"data":{}}`},
		{math.MaxInt, `{"code":0,"data":{}}`},
	} {
		f.Add(seed.status, []byte(seed.body))
	}
	ctx := WithCaller(context.Background(), Caller{Authorization: "Bearer " + fuzzToken, UserID: "1", TraceID: "t"})
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		if status < 100 || status > 999 { // an HTTP status line has three digits
			status = 100 + ((status%900)+900)%900
		}
		up := &fuzzUpstream{status: status, body: body}
		c, err := New("https://koodrive.invalid/base",
			WithHTTPClient(&http.Client{Transport: up}),
			WithRetryPolicy(RetryPolicy{}),
			WithBreaker(BreakerSettings{ConsecutiveFailures: math.MaxUint32, OpenFor: time.Hour}),
			WithMaxBodyBytes(fuzzMaxBody))
		if err != nil {
			t.Fatal(err)
		}
		user, userErr := c.GetUser(ctx, "1008600000293202821")
		page, pageErr := c.ListUserGroups(ctx, ListUserGroupsParams{PageSize: 20})
		if n := up.calls.Load(); n != 2 || !up.token.Load() {
			t.Fatalf("%d upstream calls (want 2, no retries), token sent: %v", n, up.token.Load())
		}

		// What the body says, decoded as the envelope's contract reads it.
		var env struct {
			Code *int            `json:"code"`
			Msg  string          `json:"msg"`
			Data json.RawMessage `json:"data"`
		}
		envErr := json.Unmarshal(body, &env)
		validEnvelope := envErr == nil && env.Code != nil
		is2xx := status >= 200 && status < 300
		tooLarge := len(body) > fuzzMaxBody

		check := func(op string, ok bool, err error) {
			t.Helper()
			if err == nil {
				if !ok {
					t.Fatalf("%s: nil result and nil error", op)
				}
				if !is2xx || tooLarge || !validEnvelope || *env.Code != 0 {
					t.Fatalf("%s succeeded on status %d, body %q", op, status, body)
				}
				return
			}
			if ok {
				t.Fatalf("%s: a result and an error %v", op, err)
			}
			var ke *Error
			if !errors.As(err, &ke) {
				t.Fatalf("%s: error %T %v is not a *koodrive.Error", op, err, err)
			}
			if ke.Op != op || ke.StatusCode != status || ke.TraceID != "t" {
				t.Fatalf("%s: error %+v, want Op %s, StatusCode %d, TraceID t", op, ke, op, status)
			}
			text := err.Error()
			if !bytes.Contains(body, []byte(fuzzToken)) && strings.Contains(text, fuzzToken) {
				t.Fatalf("%s: error text %q carries the token", op, text)
			}
			// The upstream msg is kept on purpose; nothing else of the body may show.
			if ke.Message != "" && strings.Contains(ke.Message, fuzzMarker) && (!validEnvelope || ke.Message != env.Msg) {
				t.Fatalf("%s: Message %q is not the envelope's msg (body %q)", op, ke.Message, body)
			}
			if rest := strings.Replace(text, ke.Message, "", 1); bytes.Contains(body, []byte(fuzzMarker)) && strings.Contains(rest, fuzzMarker) {
				t.Fatalf("%s: error text %q carries the body %q", op, text, body)
			}
			switch {
			case tooLarge:
				if !errors.Is(err, ErrBadResponse) {
					t.Fatalf("%s: body of %d bytes over the limit gave %v", op, len(body), err)
				}
			case !is2xx:
				if want := kindForStatusWant(status); want != nil && !errors.Is(err, want) {
					t.Fatalf("%s: status %d gave %v, want %v", op, status, err, want)
				}
				if validEnvelope && (ke.Code != *env.Code || ke.Message != env.Msg) {
					t.Fatalf("%s: status %d with envelope code %d msg %q gave %+v", op, status, *env.Code, env.Msg, ke)
				}
			case !validEnvelope:
				if !errors.Is(err, ErrBadResponse) {
					t.Fatalf("%s: malformed envelope %q gave %v", op, body, err)
				}
			case *env.Code != 0:
				if ke.Code != *env.Code || ke.Message != env.Msg || errors.Is(err, ErrBadResponse) {
					t.Fatalf("%s: code %d msg %q gave %+v", op, *env.Code, env.Msg, ke)
				}
			default:
				if !errors.Is(err, ErrBadResponse) {
					t.Fatalf("%s: a 2xx with code 0 failed with %v, not ErrBadResponse", op, err)
				}
			}
		}
		check(opGetUser, user != nil, userErr)
		check(opListUserGroups, page != nil, pageErr)

		if !is2xx || tooLarge || !validEnvelope || *env.Code != 0 {
			return
		}
		// A 2xx with code 0: GetUser succeeds exactly when data is an object that reads
		// as a user, and returns that user.
		var want User
		dataIsUser := bytes.HasPrefix(bytes.TrimLeft(env.Data, " \t\r\n"), []byte("{")) && json.Unmarshal(env.Data, &want) == nil
		switch {
		case dataIsUser && userErr != nil:
			t.Fatalf("GetUser failed on %q: %v", body, userErr)
		case !dataIsUser && userErr == nil:
			t.Fatalf("GetUser succeeded on %q (data %q) with %+v", body, env.Data, user)
		case dataIsUser && !reflect.DeepEqual(*user, want):
			t.Fatalf("GetUser on %q = %+v, want %+v", body, *user, want)
		}
		var wantPage UserGroupPage
		pageOK := json.Unmarshal(body, &wantPage) == nil
		switch {
		case pageOK && pageErr != nil:
			t.Fatalf("ListUserGroups failed on %q: %v", body, pageErr)
		case !pageOK && pageErr == nil:
			t.Fatalf("ListUserGroups succeeded on %q with %+v", body, page)
		case pageOK && !reflect.DeepEqual(*page, wantPage):
			t.Fatalf("ListUserGroups on %q = %+v, want %+v", body, *page, wantPage)
		}
	})
}

// kindForStatusWant is the sentinel a non-2xx status must match, per the README.
func kindForStatusWant(status int) error {
	switch status {
	case 401:
		return ErrUnauthenticated
	case 403:
		return ErrForbidden
	case 404:
		return ErrNotFound
	case 408, 504:
		return ErrTimeout
	}
	return nil
}
