package koodrive

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"regexp"
	"strconv"
	"time"

	"go.opentelemetry.io/otel/attribute"
)

// API paths, relative to the base URL, and the adapter's operation names (in errors,
// metrics and breakers).
const (
	usersPath        = "/koodrive/ose/v1/users/"
	userGroupsPath   = "/koodrive/ose/v1/usergroups"
	opGetUser        = "GetUser"
	opListUserGroups = "ListUserGroups"
	MaxPageSize      = 100
	MaxCursorLen     = 1024 // bytes of an upstream nextCursor the facade accepts
)

// Endpoints are the adapter's operations, each with its own breaker and hold.
var Endpoints = []string{opGetUser, opListUserGroups}

var idPattern = regexp.MustCompile(`^[0-9]{1,19}$`)

// IsID reports whether s is a KooDrive id: a decimal string of at most 19 digits.
func IsID(s string) bool { return idPattern.MatchString(s) }

// User is KooDrive's userInfo. Every field is optional upstream, so absent ones stay nil.
type User struct {
	ID       *string `json:"id"`     // third-party user id
	UserID   *string `json:"userId"` // KooDrive user id
	Name     *string `json:"name"`
	Mobile   *string `json:"mobile"` // personal data: never log it
	Role     *int    `json:"role"`
	Status   *int    `json:"status"`
	OrgID    *string `json:"orgId"`
	DeptID   *string `json:"deptId"`
	DeptName *string `json:"deptName"`
}

// GetUser calls GET /users/{userID}, or answers from the user cache when it is on.
func (c *Client) GetUser(ctx context.Context, userID string) (*User, error) {
	key := c.userCacheKey(ctx, userID)
	if u, ok := c.cachedUser(ctx, key); ok {
		return u, nil
	}
	var out struct {
		envelope
		Data *User `json:"data"`
	}
	status, err := c.get(ctx, opGetUser, usersPath+url.PathEscape(userID), nil, &out)
	if err != nil {
		return nil, err
	}
	if out.Data == nil {
		return nil, &Error{Op: opGetUser, StatusCode: status, Message: "response without data", TraceID: CallerFrom(ctx).TraceID, kind: ErrBadResponse}
	}
	c.cacheUser(ctx, key, out.Data)
	return out.Data, nil
}

// userCacheKey binds a cached user to the caller who read it: one caller's answer is
// never served to another.
func (c *Client) userCacheKey(ctx context.Context, userID string) [sha256.Size]byte {
	if c.userCache == nil {
		return [sha256.Size]byte{}
	}
	return callerHash(CallerFrom(ctx), userID)
}

// cachedUser looks in this process's cache, then in the fleet's; a user the fleet
// holds is kept here too, until the same time.
func (c *Client) cachedUser(ctx context.Context, key [sha256.Size]byte) (*User, bool) {
	if c.userCache == nil {
		return nil, false
	}
	if u, ok := c.userCache.get(key); ok {
		c.observer.UserCacheLookup("hit")
		c.event(ctx, "koodrive.user_cache_hit", attribute.String("koodrive.cache_tier", "local"))
		return u, true
	}
	if c.shared != nil {
		if u, expires, ok := c.shared.GetUser(ctx, hex.EncodeToString(key[:])); ok && expires.After(c.userCache.now()) {
			c.userCache.put(key, u, expires)
			c.observer.UserCacheLookup("shared_hit")
			c.event(ctx, "koodrive.user_cache_hit", attribute.String("koodrive.cache_tier", "fleet"))
			return u, true
		}
	}
	c.observer.UserCacheLookup("miss")
	return nil, false
}

// cacheUser keeps a user just read, here and in the fleet. Errors are never cached.
func (c *Client) cacheUser(ctx context.Context, key [sha256.Size]byte, u *User) {
	if c.userCache == nil {
		return
	}
	expires := c.userCache.now().Add(c.userCache.ttl)
	c.userCache.put(key, u, expires)
	if c.shared != nil {
		c.shared.AddUser(ctx, hex.EncodeToString(key[:]), u, expires)
	}
}

// SourceType is the upstream sourceType filter.
type SourceType int

const (
	SourceGroup     SourceType = 0
	SourceUserGroup SourceType = 1
)

// ListUserGroupsParams are the query parameters of GET /usergroups.
type ListUserGroupsParams struct {
	PageSize   int    // 1..MaxPageSize
	PageCursor string // empty for the first page
	GroupName  string // optional filter
	SourceType SourceType
}

// UserGroup is KooDrive's UserGroupInfo.
type UserGroup struct {
	ID          string     `json:"id"`
	GroupName   string     `json:"groupName"`
	OwnerID     string     `json:"ownerId"`
	CreatedTime *time.Time `json:"createdTime"`
	UpdatedTime *time.Time `json:"updatedTime"`
}

// UserGroupPage is one upstream page. It may hold fewer than PageSize groups, or none,
// before the end: only NextCursor says whether more follow ("" means none).
type UserGroupPage struct {
	Groups     []UserGroup `json:"userGroupList"`
	NextCursor string      `json:"nextCursor"`
	Total      int         `json:"total"`
}

// ListUserGroups calls GET /usergroups: one page of the groups the caller joins.
func (c *Client) ListUserGroups(ctx context.Context, p ListUserGroupsParams) (*UserGroupPage, error) {
	q := url.Values{}
	q.Set("pageSize", strconv.Itoa(p.PageSize))
	q.Set("pageCursor", p.PageCursor) // mandatory: empty on the first page
	q.Set("sourceType", strconv.Itoa(int(p.SourceType)))
	if p.GroupName != "" {
		q.Set("groupName", p.GroupName)
	}
	var out struct {
		envelope
		UserGroupPage
	}
	status, err := c.get(ctx, opListUserGroups, userGroupsPath, q, &out)
	if err != nil {
		return nil, err
	}
	page := out.UserGroupPage
	if len(page.NextCursor) > MaxCursorLen {
		// The facade carries upstream cursors inside its own, which clients send back.
		return nil, &Error{Op: opListUserGroups, StatusCode: status, Message: "nextCursor longer than the facade accepts", TraceID: CallerFrom(ctx).TraceID, kind: ErrBadResponse}
	}
	return &page, nil
}
