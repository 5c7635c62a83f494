package graph

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"

	"github.com/koodrive/facade/koodrive"
)

// pagePosition is where a Relay edge cursor resumes in KooDrive's list: fetch the
// upstream page at Upstream with PageSize, then skip Skip groups. KooDrive's cursors mark
// pages, not records, so resuming mid-page refetches that page with the size it was read
// with. PageSize 0 means the position starts a page and any size may be asked for.
type pagePosition struct {
	Filter   string `json:"f"` // filterKey of the query that made the cursor
	Upstream string `json:"c"`
	PageSize int    `json:"s,omitempty"`
	Skip     int    `json:"k,omitempty"`
}

// maxCursorLen bounds what decodeCursor reads: room for the longest upstream cursor
// the adapter accepts, JSON-escaped (at most 6 bytes a byte), with base64's 4/3.
const maxCursorLen = (6*koodrive.MaxCursorLen + 256) * 4 / 3

var errBadCursor = errors.New("cursor is malformed or was made for other arguments")

// filterKey binds cursors to the filters they were made with, without revealing them.
func filterKey(groupName string, sourceType koodrive.SourceType) string {
	b, _ := json.Marshal([]any{groupName, sourceType})
	sum := sha256.Sum256(b)
	return base64.RawURLEncoding.EncodeToString(sum[:9])
}

func encodeCursor(p pagePosition) string {
	b, _ := json.Marshal(p)
	return base64.RawURLEncoding.EncodeToString(b)
}

// decodeCursor accepts only cursors encodeCursor made for the same filters.
func decodeCursor(s, filter string) (pagePosition, error) {
	var p pagePosition
	if len(s) > maxCursorLen {
		return p, errBadCursor
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || json.Unmarshal(b, &p) != nil || p.Filter != filter {
		return pagePosition{}, errBadCursor
	}
	if p.PageSize < 0 || p.PageSize > koodrive.MaxPageSize || p.Skip < 0 {
		return pagePosition{}, errBadCursor
	}
	return p, nil
}
