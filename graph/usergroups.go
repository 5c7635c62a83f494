package graph

import (
	"context"

	"github.com/koodrive/facade/graph/model"
	"github.com/koodrive/facade/koodrive"
)

const (
	defaultFirst    = 20
	maxGroupNameLen = 256
)

// userGroupsArgs are the validated arguments of Query.userGroups.
type userGroupsArgs struct {
	first     int
	after     *pagePosition
	groupName string
	source    koodrive.SourceType
}

func parseUserGroupsArgs(first *int, after, groupName *string, sourceType *model.UserGroupSourceType) (userGroupsArgs, error) {
	a := userGroupsArgs{first: defaultFirst, source: koodrive.SourceUserGroup}
	if first != nil {
		a.first = *first
	}
	if a.first < 1 || a.first > koodrive.MaxPageSize {
		return a, badInput("first must be between 1 and %d", koodrive.MaxPageSize)
	}
	if groupName != nil {
		a.groupName = *groupName
	}
	if len(a.groupName) > maxGroupNameLen {
		return a, badInput("groupName must be at most %d bytes", maxGroupNameLen)
	}
	if sourceType != nil && *sourceType == model.UserGroupSourceTypeGroup {
		a.source = koodrive.SourceGroup
	}
	if after != nil {
		p, err := decodeCursor(*after, filterKey(a.groupName, a.source))
		if err != nil {
			return a, badInput("after: %v", err)
		}
		a.after = &p
	}
	return a, nil
}

// listUserGroups fills one Relay page of a.first edges by following nextCursor across
// KooDrive's partial and empty pages, reading at most MaxUpstreamPages pages.
func (r *Resolver) listUserGroups(ctx context.Context, a userGroupsArgs) (*model.UserGroupConnection, error) {
	filter := filterKey(a.groupName, a.source)
	pos := pagePosition{Filter: filter}
	if a.after != nil {
		pos = *a.after
	}
	conn := &model.UserGroupConnection{PageInfo: &model.PageInfo{HasPreviousPage: a.after != nil}}
	prefetch := !r.opts.NaiveUserFetch && ownersSelected(ctx)
	var owners []*userCall // started with their pages
	var waves []func()     // their spans, ended once they are in
	for pages := 0; ; pages++ {
		if pages == r.opts.MaxUpstreamPages {
			// Stopped early: more may follow from pos, so say so and where.
			conn.PageInfo.HasNextPage = true
			if len(conn.Edges) == 0 {
				conn.PageInfo.EndCursor = ptr(encodeCursor(pos))
			}
			break
		}
		size := pos.PageSize
		if size == 0 { // a fresh page: ask for no more than the Relay page still needs
			size = a.first - len(conn.Edges)
		}
		page, err := r.kd.ListUserGroups(ctx, koodrive.ListUserGroupsParams{
			PageSize: size, PageCursor: pos.Upstream, GroupName: a.groupName, SourceType: a.source,
		})
		if err != nil {
			return nil, err
		}
		conn.TotalCount = page.Total
		// This page adds groups [from, to): from the position, up to the Relay page's size.
		from := min(pos.Skip, len(page.Groups))
		to := min(len(page.Groups), from+a.first-len(conn.Edges))
		if prefetch && to > from {
			ids := ownerIDs(page.Groups[from:to])
			waveCtx, end := r.startWave(ctx, ids)
			owners = append(owners, r.prefetchUsers(waveCtx, ids)...)
			if r.tracer != nil {
				waves = append(waves, end)
			}
		}
		for i := from; i < to; i++ {
			conn.Edges = append(conn.Edges, &model.UserGroupEdge{
				Cursor: encodeCursor(edgePosition(filter, pos.Upstream, size, i, page)),
				Node:   toGraphUserGroup(page.Groups[i], a.source),
			})
		}
		if to < len(page.Groups) {
			conn.PageInfo.HasNextPage = true // the rest of this upstream page
			break
		}
		if page.NextCursor == "" {
			break
		}
		if len(conn.Edges) == a.first {
			conn.PageInfo.HasNextPage = true
			break
		}
		pos = pagePosition{Filter: filter, Upstream: page.NextCursor}
	}
	if n := len(conn.Edges); n > 0 {
		conn.PageInfo.StartCursor = &conn.Edges[0].Cursor
		conn.PageInfo.EndCursor = &conn.Edges[n-1].Cursor
	}
	// gqlgen walks the edges once this returns: with every owner at hand no edge waits,
	// so it may walk them in order on one goroutine (executor.go, selection.go).
	awaitUsers(owners)
	for _, end := range waves {
		end()
	}
	if prefetch {
		markPrefetched(ctx, conn, ownerField)
	}
	return conn, nil
}

// edgePosition is where to resume after group i of a page read at upstream cursor with
// size: right after it in the same page, or, after a page's last group, the next page.
func edgePosition(filter, upstream string, size, i int, page *koodrive.UserGroupPage) pagePosition {
	if i == len(page.Groups)-1 && page.NextCursor != "" {
		return pagePosition{Filter: filter, Upstream: page.NextCursor}
	}
	return pagePosition{Filter: filter, Upstream: upstream, PageSize: size, Skip: i + 1}
}

func ownerIDs(groups []koodrive.UserGroup) []string {
	ids := make([]string, len(groups))
	for i, g := range groups {
		ids[i] = g.OwnerID
	}
	return ids
}

func toGraphUserGroup(g koodrive.UserGroup, source koodrive.SourceType) *model.UserGroup {
	return &model.UserGroup{
		GroupID: g.ID, Name: g.GroupName, OwnerID: g.OwnerID,
		CreatedTime: g.CreatedTime, UpdatedTime: g.UpdatedTime, SourceType: int(source),
	}
}

// groupByKey finds a user group again for node(id:): in the caller's list, filtered by
// the group's name and source type, reading at most MaxUpstreamPages pages. A group the
// caller no longer joins, or that the bound does not reach, is NOT_FOUND.
func (r *Resolver) groupByKey(ctx context.Context, key model.GroupKey) (*model.UserGroup, error) {
	source := koodrive.SourceType(key.SourceType)
	cursor := ""
	for range r.opts.MaxUpstreamPages {
		page, err := r.kd.ListUserGroups(ctx, koodrive.ListUserGroupsParams{
			PageSize: koodrive.MaxPageSize, PageCursor: cursor, GroupName: key.Name, SourceType: source,
		})
		if err != nil {
			return nil, err
		}
		for _, g := range page.Groups {
			if g.ID == key.GroupID {
				return toGraphUserGroup(g, source), nil
			}
		}
		if cursor = page.NextCursor; cursor == "" {
			break
		}
	}
	return nil, &userError{code: CodeNotFound, msg: "no such user group among the caller's"}
}

func ptr[T any](v T) *T { return &v }
