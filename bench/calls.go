package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"

	"github.com/koodrive/facade/graph"
	"github.com/koodrive/facade/graph/gqlhttp"
	"github.com/koodrive/facade/koodrive"
	"github.com/koodrive/facade/koodrive/demo"
)

// Upstream calls per operation: counted on an in-process demo KooDrive, since a call
// count does not depend on where the processes run.

// mixQuery is one operation of the mix and what its lower bound needs.
type mixQuery struct {
	name, query string
	first       int    // groups read by its userGroups field; 0: none
	groupName   string // the field's filter
	afterFirst  bool   // resumes after the first query's page of 20
	viewer      bool   // also reads the caller
	singleUser  bool   // user(userId:) or node(id:): one user
}

const ownerFields = `edges { node { groupId name owner { userId name } } }`

func queryMix(userID, nodeUserID string) []mixQuery {
	nodeID := base64.RawURLEncoding.EncodeToString([]byte("User:" + nodeUserID))
	return []mixQuery{
		{name: "viewer + userGroups(first: 20) with owners", first: 20, viewer: true,
			query: `{ viewer { userId name } userGroups(first: 20) { pageInfo { hasNextPage endCursor } ` + ownerFields + ` } }`},
		{name: "userGroups(first: 50) with owners", first: 50, query: loadQuery},
		{name: "userGroups(first: 100) with owners", first: 100,
			query: `{ userGroups(first: 100) { ` + ownerFields + ` } }`},
		{name: `filtered: userGroups(first: 20, groupName: "team") with owners`, first: 20, groupName: "team",
			query: `{ userGroups(first: 20, groupName: "team") { totalCount ` + ownerFields + ` } }`},
		{name: "next page: userGroups(first: 20, after: endCursor of the first) with owners", first: 20, afterFirst: true,
			query: `{ userGroups(first: 20, after: "%s") { ` + ownerFields + ` } }`},
		{name: "user(userId:)", singleUser: true, query: `{ user(userId: "` + userID + `") { userId name mobile deptName } }`},
		{name: "node(id:) of a User", singleUser: true, query: `{ node(id: "` + nodeID + `") { ... on User { userId name } } }`},
	}
}

type callsRow struct {
	name                    string
	pages, users            float64 // facade, mean per operation
	naive                   float64 // facade with NaiveUserFetch and no coalescing
	boundPages, boundUsers  int
	pagesMatch, groupsMatch bool // facade pages and groups equal the minimal walker's
	errors, runs            int
	minCalls, maxCalls      int64 // over the runs: a spread would mean batching depends on timing
	naiveMin, naiveMax      int64
}

// inProcess is a facade handler in front of its own demo KooDrive, both on loopback.
type inProcess struct {
	up          *demo.Upstream
	upSrv, gSrv *httptest.Server
	kd          *koodrive.Client
}

func newInProcess(opts graph.Options, kdOpts ...koodrive.Option) (*inProcess, error) {
	up := demo.New(demo.Options{})
	upSrv := httptest.NewServer(up)
	kd, err := koodrive.New(upSrv.URL, kdOpts...)
	if err != nil {
		upSrv.Close()
		return nil, err
	}
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	h := gqlhttp.New(graph.New(kd, log, opts), log, gqlhttp.Options{})
	return &inProcess{up: up, upSrv: upSrv, gSrv: httptest.NewServer(h), kd: kd}, nil
}

func (p *inProcess) close() {
	p.gSrv.Close()
	p.kd.CloseIdleConnections()
	p.upSrv.Close()
}

type gqlAnswer struct {
	Data struct {
		UserGroups *struct {
			PageInfo *struct{ EndCursor string } `json:"pageInfo"`
			Edges    []struct {
				Node struct{ GroupID string } `json:"node"`
			} `json:"edges"`
		} `json:"userGroups"`
	} `json:"data"`
}

// callsOf runs query once on p and returns the upstream calls it cost.
func (p *inProcess) callsOf(ctx context.Context, hc *http.Client, callerID, query string) (calls, pages int64, ans gqlAnswer, ok bool) {
	c0, g0 := p.up.Calls(), p.up.Path(groupsPath)
	body, _ := json.Marshal(map[string]string{"query": query})
	raw, ok := post(ctx, hc, p.gSrv.URL+"/query", demoCaller(callerID), body)
	if ok && json.Unmarshal(raw, &ans) != nil {
		ok = false
	}
	return p.up.Calls() - c0, int64(p.up.Path(groupsPath) - g0), ans, ok
}

func measureCalls(ctx context.Context, runs int) ([]callsRow, error) {
	batched, err := newInProcess(graph.Options{})
	if err != nil {
		return nil, err
	}
	defer batched.close()
	naive, err := newInProcess(graph.Options{NaiveUserFetch: true}, koodrive.WithoutCoalescing())
	if err != nil {
		return nil, err
	}
	defer naive.close()
	walkUp := httptest.NewServer(demo.New(demo.Options{}))
	defer walkUp.Close()
	walker := newRest(walkUp.URL)
	defer walker.hc.CloseIdleConnections()
	hc := newLoadClient()
	defer hc.CloseIdleConnections()

	callerID := batched.up.CallerID()
	who := demoCaller(callerID)
	mix := queryMix(batched.up.UserIDs()[7], batched.up.UserIDs()[9])
	_, _, first, ok := batched.callsOf(ctx, hc, callerID, mix[0].query)
	if !ok || first.Data.UserGroups == nil || first.Data.UserGroups.PageInfo == nil {
		return nil, fmt.Errorf("first page of the mix failed")
	}
	endCursor := first.Data.UserGroups.PageInfo.EndCursor

	var rows []callsRow
	for _, q := range mix {
		row := callsRow{name: q.name, runs: runs, pagesMatch: true, groupsMatch: true, minCalls: -1, naiveMin: -1}
		var wantIDs []string
		if q.first > 0 {
			cursor := ""
			if q.afterFirst { // a minimal client keeps the upstream cursor where page one ended
				if _, _, cursor, err = walker.walkGroups(ctx, who, 20, "", "", 1); err != nil {
					return nil, err
				}
			}
			groups, pages, _, err := walker.walkGroups(ctx, who, q.first, cursor, q.groupName, 1)
			if err != nil {
				return nil, err
			}
			owners := distinctOwners(groups)
			if q.viewer && !slices.Contains(owners, callerID) {
				owners = append(owners, callerID)
			}
			row.boundPages, row.boundUsers = pages, len(owners)
			for _, g := range groups {
				wantIDs = append(wantIDs, g.ID)
			}
		} else if q.singleUser {
			row.boundUsers = 1
		}
		text := q.query
		if q.afterFirst {
			text = fmt.Sprintf(q.query, endCursor)
		}
		for range runs {
			calls, pages, ans, ok := batched.callsOf(ctx, hc, callerID, text)
			if !ok {
				row.errors++
			}
			row.pages += float64(pages) / float64(runs)
			row.users += float64(calls-pages) / float64(runs)
			row.minCalls, row.maxCalls = minMax(row.minCalls, row.maxCalls, calls)
			row.pagesMatch = row.pagesMatch && int(pages) == row.boundPages
			if q.first > 0 {
				row.groupsMatch = row.groupsMatch && ans.Data.UserGroups != nil && slices.Equal(groupIDs(ans), wantIDs)
			}
			nCalls, _, _, ok := naive.callsOf(ctx, hc, callerID, text)
			if !ok {
				row.errors++
			}
			row.naive += float64(nCalls) / float64(runs)
			row.naiveMin, row.naiveMax = minMax(row.naiveMin, row.naiveMax, nCalls)
		}
		rows = append(rows, row)
	}
	return rows, nil
}

func groupIDs(a gqlAnswer) []string {
	var ids []string
	for _, e := range a.Data.UserGroups.Edges {
		ids = append(ids, e.Node.GroupID)
	}
	return ids
}

func minMax(lo, hi, v int64) (int64, int64) {
	if lo < 0 || v < lo {
		lo = v
	}
	return lo, max(hi, v)
}
