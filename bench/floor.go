package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"sync"
	"time"
)

// The cost floor: the one query the load runs, answered by the REST calls it needs
// and nothing else, so the facade's overhead is what separates the two.

const (
	groupsPath     = "/koodrive/ose/v1/usergroups"
	usersPath      = "/koodrive/ose/v1/users/"
	maxGroupPages  = 10 // the facade's bound on upstream pages per field
	floorPageFirst = 50
)

// rest calls KooDrive for one caller, as the facade's adapter does on the wire.
type rest struct {
	base string
	hc   *http.Client
}

func newRest(base string) *rest {
	t := http.DefaultTransport.(*http.Transport).Clone()
	// Pooled like the facade's transport, but large enough for 16 clients' owners at once
	// (16 × 30 calls): the floor has no concurrency cap, and a smaller pool would close and
	// reopen connections on every wave, making the floor slower than it need be.
	t.MaxIdleConns = 1024
	t.MaxIdleConnsPerHost = 1024
	t.IdleConnTimeout = 90 * time.Second
	return &rest{base: base, hc: &http.Client{Transport: t, Timeout: 10 * time.Second}}
}

type caller struct{ auth, userID string }

type restGroup struct {
	ID        string `json:"id"`
	GroupName string `json:"groupName"`
	OwnerID   string `json:"ownerId"`
}

type restUser struct {
	UserID string `json:"userId"`
	Name   string `json:"name"`
}

func (r *rest) get(ctx context.Context, c caller, pathAndQuery string, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.base+pathAndQuery, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", c.auth)
	req.Header.Set("X-User-Id", c.userID)
	req.Header.Set("X-Date", time.Now().UTC().Format("20060102T150405Z"))
	req.Header.Set("Accept", "application/json")
	resp, err := r.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return err
	}
	var env struct {
		Code *int `json:"code"`
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &env) != nil || env.Code == nil || *env.Code != 0 {
		return fmt.Errorf("GET %s: status %d", pathAndQuery, resp.StatusCode)
	}
	return json.Unmarshal(body, out)
}

// walkGroups reads first groups from cursor by following nextCursor and asking for no
// more than still needed, as the facade does: the minimal client for the same page.
func (r *rest) walkGroups(ctx context.Context, c caller, first int, cursor, groupName string, sourceType int) (groups []restGroup, pages int, next string, err error) {
	for pages < maxGroupPages && len(groups) < first {
		q := url.Values{}
		q.Set("pageSize", strconv.Itoa(first-len(groups)))
		q.Set("pageCursor", cursor)
		q.Set("sourceType", strconv.Itoa(sourceType))
		if groupName != "" {
			q.Set("groupName", groupName)
		}
		var page struct {
			Groups     []restGroup `json:"userGroupList"`
			NextCursor string      `json:"nextCursor"`
		}
		if err := r.get(ctx, c, groupsPath+"?"+q.Encode(), &page); err != nil {
			return nil, pages, "", err
		}
		pages++
		groups = append(groups, page.Groups...)
		cursor = page.NextCursor
		if cursor == "" {
			break
		}
	}
	return groups, pages, cursor, nil
}

// usersByID fetches every distinct id at once: KooDrive has no batch endpoint.
func (r *rest) usersByID(ctx context.Context, c caller, ids []string) (map[string]restUser, error) {
	out := make(map[string]restUser, len(ids))
	var mu sync.Mutex
	var wg sync.WaitGroup
	var firstErr error
	for _, id := range ids {
		wg.Go(func() {
			var resp struct {
				Data restUser `json:"data"`
			}
			err := r.get(ctx, c, usersPath+url.PathEscape(id), &resp)
			mu.Lock()
			defer mu.Unlock()
			if err != nil && firstErr == nil {
				firstErr = err
			}
			if resp.Data.UserID == "" {
				resp.Data.UserID = id
			}
			out[id] = resp.Data
		})
	}
	wg.Wait()
	return out, firstErr
}

func distinctOwners(groups []restGroup) []string {
	seen := map[string]bool{}
	var ids []string
	for _, g := range groups {
		if !seen[g.OwnerID] {
			seen[g.OwnerID] = true
			ids = append(ids, g.OwnerID)
		}
	}
	return ids
}

// The answer's shape, field for field the facade's JSON for loadQuery.
type floorAnswer struct {
	Data struct {
		UserGroups struct {
			Edges []floorEdge `json:"edges"`
		} `json:"userGroups"`
	} `json:"data"`
}

type floorEdge struct {
	Node struct {
		GroupID string    `json:"groupId"`
		Name    string    `json:"name"`
		Owner   *restUser `json:"owner"`
	} `json:"node"`
}

func (r *rest) serveFloor(w http.ResponseWriter, req *http.Request) {
	_, _ = io.Copy(io.Discard, io.LimitReader(req.Body, 1<<20))
	c := caller{auth: req.Header.Get("Authorization"), userID: req.Header.Get("X-User-Id")}
	ctx, cancel := context.WithTimeout(req.Context(), 15*time.Second)
	defer cancel()
	groups, _, _, err := r.walkGroups(ctx, c, floorPageFirst, "", "", 1)
	var users map[string]restUser
	if err == nil {
		users, err = r.usersByID(ctx, c, distinctOwners(groups))
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	if err != nil {
		_, _ = io.WriteString(w, `{"errors":[{"message":"upstream failed"}],"data":null}`)
		return
	}
	var ans floorAnswer
	ans.Data.UserGroups.Edges = make([]floorEdge, len(groups))
	for i, g := range groups {
		e := &ans.Data.UserGroups.Edges[i]
		e.Node.GroupID, e.Node.Name = g.ID, g.GroupName
		u := users[g.OwnerID]
		e.Node.Owner = &u
	}
	b, err := json.Marshal(ans)
	if err != nil {
		http.Error(w, "encode", http.StatusInternalServerError)
		return
	}
	_, _ = w.Write(b)
}

// runFloorServer is the hidden -floor-server mode: it prints its address on stdout and
// serves until killed, or until maxLife if the parent never comes back for it.
func runFloorServer(upstream string, maxLife time.Duration) error {
	if !isLoopbackURL(upstream) {
		return errors.New("floor: upstream must be a loopback URL")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	r := newRest(upstream)
	mux := http.NewServeMux()
	mux.HandleFunc("POST /query", r.serveFloor)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok\n") })
	fmt.Fprintln(os.Stdout, ln.Addr().String())
	return serveFor(ln, mux, maxLife)
}
