// Package model holds the GraphQL models: the hand-written ones here, bound by autobind,
// and the generated ones in models_gen.go.
package model

import "time"

// User is a KooDrive user. Optional upstream fields stay nil.
type User struct {
	UserID     string
	ExternalID *string
	Name       *string
	Mobile     *string
	Role       *int
	Status     *int
	OrgID      *string
	DeptID     *string
	DeptName   *string
}

func (User) IsNode()         {}
func (u User) ID() string    { return NewGlobalID(TypeUser, u.UserID) }
func (u User) GetID() string { return u.ID() }

// UserGroup is a group the caller joins; OwnerID resolves to Owner through the user loader.
type UserGroup struct {
	GroupID     string
	Name        string
	OwnerID     string
	CreatedTime *time.Time
	UpdatedTime *time.Time
	SourceType  int // the upstream sourceType it was listed under, for its refetch key
}

func (UserGroup) IsNode() {}

// ID carries what node(id:) needs to find the group again (GroupKey).
func (g UserGroup) ID() string {
	return NewGlobalID(TypeUserGroup, GroupKey{GroupID: g.GroupID, SourceType: g.SourceType, Name: g.Name}.localID())
}
func (g UserGroup) GetID() string { return g.ID() }

// UserGroupConnection is one Relay page of user groups.
type UserGroupConnection struct {
	Edges      []*UserGroupEdge
	PageInfo   *PageInfo
	TotalCount int
}

// Nodes is Edges without cursors.
func (c *UserGroupConnection) Nodes() []*UserGroup {
	nodes := make([]*UserGroup, len(c.Edges))
	for i, e := range c.Edges {
		nodes[i] = e.Node
	}
	return nodes
}

// UserGroupEdge is a group and the cursor to resume after it.
type UserGroupEdge struct {
	Cursor string
	Node   *UserGroup
}
