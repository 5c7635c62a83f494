package demo

import (
	"bytes"
	"strings"
	"sync"
)

// LogBuffer collects what a facade logs while it talks to the demo, so tests can check
// that none of the demo's secrets (Secrets) reached the logs. Safe for concurrent use.
type LogBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *LogBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *LogBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Take returns what was written since the last Take, and forgets it.
func (l *LogBuffer) Take() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.b.String()
	l.b.Reset()
	return s
}

// Secrets are what must never reach logs or clients: the access tokens the demo
// accepts, and every seeded mobile number.
func (u *Upstream) Secrets() []string {
	return append(append([]string{}, u.opts.Tokens...), u.Mobiles()...)
}

// SecretsIn lists the demo's secrets that s holds.
func (u *Upstream) SecretsIn(s string) []string {
	var found []string
	for _, secret := range u.Secrets() {
		if strings.Contains(s, secret) {
			found = append(found, secret)
		}
	}
	return found
}
