package model

import (
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
)

// Type names used in global ids.
const (
	TypeUser      = "User"
	TypeUserGroup = "UserGroup"
)

// ErrBadGlobalID is returned for an id that NewGlobalID did not make.
var ErrBadGlobalID = errors.New("malformed global id")

// MaxGlobalIDLen bounds what ParseGlobalID reads: room for a user group's refetch key
// with the longest group name the API takes (256 bytes), base64-encoded.
const MaxGlobalIDLen = 512

// NewGlobalID makes the opaque Relay id of an object: base64url("Type:localID").
func NewGlobalID(typeName, localID string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(typeName + ":" + localID))
}

// ParseGlobalID splits a global id into its type name and local id.
func ParseGlobalID(id string) (typeName, localID string, err error) {
	if len(id) > MaxGlobalIDLen {
		return "", "", ErrBadGlobalID
	}
	b, err := base64.RawURLEncoding.DecodeString(id)
	if err != nil {
		return "", "", ErrBadGlobalID
	}
	typeName, localID, ok := strings.Cut(string(b), ":")
	if !ok || typeName == "" || localID == "" {
		return "", "", ErrBadGlobalID
	}
	return typeName, localID, nil
}

// groupKeyVersion marks user group ids that carry what a refetch needs; the ids made
// before them held the group id alone.
const groupKeyVersion = "v2"

// GroupKey is what finds a user group again for its caller: KooDrive has no endpoint that
// reads one group, so it is looked for in the caller's list, filtered by its name and
// source type.
type GroupKey struct {
	GroupID    string
	SourceType int // upstream sourceType: 0 group, 1 user group
	Name       string
}

// ErrOldGroupID is a user group id made before ids carried their refetch key.
var ErrOldGroupID = errors.New("a user group id from before groups could be refetched")

func (k GroupKey) localID() string {
	return groupKeyVersion + ":" + strconv.Itoa(k.SourceType) + ":" + k.GroupID + ":" + k.Name
}

// ParseGroupKey reads the local id of a UserGroup's global id.
func ParseGroupKey(localID string) (GroupKey, error) {
	version, rest, ok := strings.Cut(localID, ":")
	if !ok {
		return GroupKey{}, ErrOldGroupID
	}
	st, rest, ok1 := strings.Cut(rest, ":")
	id, name, ok2 := strings.Cut(rest, ":")
	source, err := strconv.Atoi(st)
	if version != groupKeyVersion || !ok1 || !ok2 || err != nil || (source != 0 && source != 1) || id == "" || name == "" {
		return GroupKey{}, ErrBadGlobalID
	}
	return GroupKey{GroupID: id, SourceType: source, Name: name}, nil
}
