package model

import (
	"encoding/base64"
	"errors"
	"strings"
)

// Type names used in global ids.
const (
	TypeUser      = "User"
	TypeUserGroup = "UserGroup"
)

// ErrBadGlobalID is returned for an id that NewGlobalID did not make.
var ErrBadGlobalID = errors.New("malformed global id")

// NewGlobalID makes the opaque Relay id of an object: base64url("Type:localID").
func NewGlobalID(typeName, localID string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(typeName + ":" + localID))
}

// ParseGlobalID splits a global id into its type name and local id.
func ParseGlobalID(id string) (typeName, localID string, err error) {
	if len(id) > 128 {
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
