package graph

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/koodrive/facade/graph/model"
	"github.com/koodrive/facade/koodrive"
)

// FuzzDecodeCursor: decodeCursor never panics; what it accepts is in range, bound to
// its filter, and survives a re-encode; and every cursor encodeCursor makes for a
// position the facade can reach (upstream cursors are JSON strings, so valid UTF-8) is
// accepted back. Run: go test -run '^$' -fuzz '^FuzzDecodeCursor$' ./graph
func FuzzDecodeCursor(f *testing.F) {
	b64 := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	plain := filterKey("", koodrive.SourceUserGroup)
	for _, seed := range []struct {
		cursor, groupName   string
		sourceType          int
		pageSize, skip      int
		upstreamForEncoding string
	}{
		{encodeCursor(pagePosition{Filter: plain}), "", 1, 0, 0, ""},
		{encodeCursor(pagePosition{Filter: plain, Upstream: "Y3Vyc29yLTQw", PageSize: 20, Skip: 7}), "", 1, 20, 7, "Y3Vyc29yLTQw"},
		{encodeCursor(pagePosition{Filter: filterKey("platform", koodrive.SourceGroup), Upstream: "b2Zmc2V0OjEw"}), "platform", 0, 0, 0, "b2Zmc2V0OjEw"},
		{encodeCursor(pagePosition{Filter: plain, Upstream: "<&>\u2028", PageSize: 100, Skip: 99}), "", 1, 100, 99, "<&>\u2028"},
		// A long opaque upstream cursor, as a real KooDrive may send.
		{encodeCursor(pagePosition{Filter: plain, Upstream: strings.Repeat("QUJD", 300)}), "", 1, 5, 4, strings.Repeat("QUJD", 300)},
		{"", "", 1, 0, 0, ""},
		{"!!!not base64", "x", 0, -1, -1, "\xff"},
		{b64(`null`), "", 1, 0, 0, ""},
		{b64(`{}`), "", 1, 0, 0, ""},
		{b64(`{"f":"` + plain + `","s":101}`), "", 1, 101, 0, ""},
		{b64(`{"f":"` + plain + `","k":-1}`), "", 1, 0, -1, ""},
		{b64(`{"f":"` + plain + `","s":1e2,"k":9223372036854775807}`), "", 1, 0, 0, ""},
		{b64(`{"F":"` + plain + `","C":"x","f":"` + plain + `"}`), "", 1, 0, 0, ""},
		{b64(`{"f":"` + plain + `","c":"\ud800"}`), "", 1, 0, 0, ""},
		{b64(`{"f":"`+plain+`"}`) + "\n", "", 1, 0, 0, ""},
		{b64(`{"f":"` + plain + `","c":"x"} `), "", 1, 0, 0, ""},
		{b64(`["` + plain + `"]`), "", 1, 0, 0, ""},
		{strings.Repeat("A", maxCursorLen+1), "", 1, 0, 0, ""},
	} {
		f.Add(seed.cursor, seed.groupName, seed.sourceType, seed.pageSize, seed.skip, seed.upstreamForEncoding)
	}
	f.Fuzz(func(t *testing.T, cursor, groupName string, sourceType, pageSize, skip int, upstream string) {
		source := koodrive.SourceType(sourceType)
		filter := filterKey(groupName, source)
		others := []string{filterKey(groupName+"x", source), filterKey(groupName, source^1)}

		p, err := decodeCursor(cursor, filter)
		if err != nil {
			if !errors.Is(err, errBadCursor) || p != (pagePosition{}) {
				t.Fatalf("decodeCursor(%q) rejected with %v and position %+v", cursor, err, p)
			}
		} else {
			if p.Filter != filter || p.PageSize < 0 || p.PageSize > koodrive.MaxPageSize || p.Skip < 0 {
				t.Fatalf("decodeCursor(%q) accepted an out-of-range position %+v", cursor, p)
			}
			reencoded := encodeCursor(p)
			if q, err := decodeCursor(reencoded, filter); err != nil || q != p {
				t.Fatalf("accepted %q as %+v, but its re-encoding %q decodes to %+v, %v", cursor, p, reencoded, q, err)
			}
			for _, other := range others {
				if other == filter {
					continue
				}
				if q, err := decodeCursor(cursor, other); err == nil {
					t.Fatalf("cursor %q made for filter %q accepted for filter %q as %+v", cursor, filter, other, q)
				}
				if q, err := decodeCursor(reencoded, other); err == nil {
					t.Fatalf("re-encoded cursor %q accepted for another filter as %+v", reencoded, q)
				}
			}
		}

		// A position the paging code can make: an upstream cursor from KooDrive's JSON
		// (valid UTF-8, at most MaxCursorLen bytes), a page size in 0..100 and a
		// non-negative skip.
		if !utf8.ValidString(upstream) || len(upstream) > koodrive.MaxCursorLen {
			return
		}
		made := pagePosition{Filter: filter, Upstream: upstream, PageSize: ((pageSize % 101) + 101) % 101, Skip: skip}
		if made.Skip < 0 {
			made.Skip = ^made.Skip
		}
		edge := encodeCursor(made)
		if q, err := decodeCursor(edge, filter); err != nil || q != made {
			t.Fatalf("the cursor of a position with a %d-byte upstream cursor %.40q (size %d, skip %d) is %d bytes, and decodes to a %d-byte upstream cursor %.40q (size %d, skip %d), %v",
				len(made.Upstream), made.Upstream, made.PageSize, made.Skip, len(edge), len(q.Upstream), q.Upstream, q.PageSize, q.Skip, err)
		}
	})
}

// FuzzParseGlobalID: ParseGlobalID never panics, and what it accepts round-trips
// through NewGlobalID; ids NewGlobalID makes parse back to their parts.
func FuzzParseGlobalID(f *testing.F) {
	for _, seed := range []struct{ id, typeName, localID string }{
		{model.NewGlobalID(model.TypeUser, "1008600000293202821"), model.TypeUser, "1008600000293202821"},
		{model.NewGlobalID(model.TypeUserGroup, "42"), model.TypeUserGroup, "42"},
		{"VXNlcjoxMDA4NjAwMDAwMjkzMjAyODIx", model.TypeUser, "a:b"},
		{"", "", ""},
		{"VXNlcg", "User", ""},   // "User", no colon
		{"OjE", "", "1"},         // ":1", no type
		{"VXNlcjo", "User", "x"}, // "User:", no local id
		{"VXNlcjox\n", "U", "\xff"},
		{"VXNlcjox==", "User", "1"},
		{"VXNlcjox+/", "User", "1"},
		{strings.Repeat("QUJD", 33), "T", strings.Repeat("9", 100)},
	} {
		f.Add(seed.id, seed.typeName, seed.localID)
	}
	f.Fuzz(func(t *testing.T, id, typeName, localID string) {
		gotType, gotLocal, err := model.ParseGlobalID(id)
		if err != nil {
			if !errors.Is(err, model.ErrBadGlobalID) || gotType != "" || gotLocal != "" {
				t.Fatalf("ParseGlobalID(%q) = %q, %q, %v", id, gotType, gotLocal, err)
			}
		} else {
			if len(id) > model.MaxGlobalIDLen || gotType == "" || gotLocal == "" || strings.Contains(gotType, ":") {
				t.Fatalf("ParseGlobalID(%q) accepted %q, %q", id, gotType, gotLocal)
			}
			again := model.NewGlobalID(gotType, gotLocal)
			if t2, l2, err := model.ParseGlobalID(again); err != nil || t2 != gotType || l2 != gotLocal {
				t.Fatalf("ParseGlobalID(%q) = %q, %q; its re-encoding %q parses to %q, %q, %v", id, gotType, gotLocal, again, t2, l2, err)
			}
		}

		if typeName == "" || strings.Contains(typeName, ":") || localID == "" {
			return
		}
		made := model.NewGlobalID(typeName, localID)
		t2, l2, err := model.ParseGlobalID(made)
		switch {
		case len(made) > model.MaxGlobalIDLen && err == nil:
			t.Fatalf("ParseGlobalID accepted %d bytes", len(made))
		case len(made) <= model.MaxGlobalIDLen && (err != nil || t2 != typeName || l2 != localID):
			t.Fatalf("NewGlobalID(%q, %q) = %q parses to %q, %q, %v", typeName, localID, made, t2, l2, err)
		}
	})
}
