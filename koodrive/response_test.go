package koodrive

import (
	"errors"
	"fmt"
	"testing"
)

// TestCheckResponse: every HTTP status KooDrive or a proxy may answer, with every kind
// of body: an envelope that says success, one that says failure, none, and bodies that
// are not what the pages define. No HTTP: checkResponse is a pure function.
func TestCheckResponse(t *testing.T) {
	const (
		success  = `{"code":0,"msg":"OK","data":{"userId":"42"}}`
		failure  = `{"code":5001,"msg":"quota exceeded"}`
		noCode   = `{"msg":"OK","data":{"userId":"42"}}`
		notJSON  = `<html>proxy error</html>`
		cut      = `{"code":0,"msg":"OK","data":{"userId":`
		wrongFit = `{"code":0,"msg":"OK","data":"not an object"}` // envelope fine, data not a user
		codeText = `{"code":"0","msg":"OK"}`
		empty    = ``
	)
	type want struct {
		ok      bool
		code    int
		message string
		kind    error
	}
	okAnswer := want{ok: true}
	badBody := want{message: "malformed response body", kind: ErrBadResponse}
	cases := []struct {
		status int
		body   string
		want   want
	}{
		{200, success, okAnswer},
		{201, success, okAnswer},
		{200, failure, want{code: 5001, message: "quota exceeded"}},
		{200, noCode, badBody},
		{200, notJSON, badBody},
		{200, cut, badBody},
		{200, wrongFit, badBody},
		{200, codeText, badBody},
		{200, empty, badBody},
		{401, `{"code":1001,"msg":"invalid access token"}`, want{code: 1001, message: "invalid access token", kind: ErrUnauthenticated}},
		{401, notJSON, want{message: "Unauthorized", kind: ErrUnauthenticated}},
		{403, failure, want{code: 5001, message: "quota exceeded", kind: ErrForbidden}},
		{403, empty, want{message: "Forbidden", kind: ErrForbidden}},
		{404, `{"code":2404,"msg":"user not found"}`, want{code: 2404, message: "user not found", kind: ErrNotFound}},
		{404, notJSON, want{message: "Not Found", kind: ErrNotFound}},
		{408, empty, want{message: "Request Timeout", kind: ErrTimeout}},
		{429, failure, want{code: 5001, message: "quota exceeded"}},
		{500, success, want{code: 0, message: "OK"}}, // a 5xx is a failure whatever its body says
		{500, notJSON, want{message: "Internal Server Error"}},
		{502, cut, want{message: "Bad Gateway"}},
		{504, empty, want{message: "Gateway Timeout", kind: ErrTimeout}},
		{302, success, want{message: "OK"}}, // not a 2xx: a redirect is not an answer
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%d %s", tc.status, tc.body), func(t *testing.T) {
			var out struct {
				envelope
				Data *User `json:"data"`
			}
			got := checkResponse(&response{status: tc.status, body: []byte(tc.body)}, &out)
			switch {
			case tc.want.ok && got != nil:
				t.Fatalf("failure %v, want success", got)
			case tc.want.ok:
				if out.Data == nil || out.Data.UserID == nil || *out.Data.UserID != "42" {
					t.Fatalf("decoded %+v, want the user", out.Data)
				}
				return
			case got == nil:
				t.Fatal("success, want a failure")
			}
			if got.StatusCode != tc.status || got.Code != tc.want.code || got.Message != tc.want.message {
				t.Errorf("got {status %d, code %d, %q}, want {status %d, code %d, %q}", got.StatusCode, got.Code, got.Message, tc.status, tc.want.code, tc.want.message)
			}
			if got.kind != tc.want.kind {
				t.Errorf("kind %v, want %v", got.kind, tc.want.kind)
			}
		})
	}
}

func TestCheckResponseOfABodyOverTheLimit(t *testing.T) {
	var out struct{ envelope }
	got := checkResponse(&response{status: 200, tooLarge: true}, &out)
	if got == nil || !errors.Is(got, ErrBadResponse) || got.Message != "response body over the size limit" {
		t.Fatalf("got %v, want ErrBadResponse for a body over the limit", got)
	}
}
