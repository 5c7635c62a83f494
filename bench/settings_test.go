package main

import (
	"slices"
	"testing"
	"time"
)

func TestNewSettings(t *testing.T) {
	s, err := newSettings(false, false, 10*time.Second, "0ms, 5ms,20ms", "1,16")
	if err != nil || !slices.Equal(s.latencies, []time.Duration{0, 5 * time.Millisecond, 20 * time.Millisecond}) || !slices.Equal(s.clients, []int{1, 16}) {
		t.Fatalf("defaults: %+v, %v", s, err)
	}
	if s, err := newSettings(true, false, 10*time.Second, "20ms", "1"); err != nil || s.duration != time.Second || s.rounds != 2 {
		t.Fatalf("-quick: %+v, %v", s, err)
	}
	for _, bad := range []struct {
		duration           time.Duration
		latencies, clients string
	}{
		{50 * time.Millisecond, "0ms", "1"},
		{11 * time.Minute, "0ms", "1"},
		{time.Second, "abc", "1"},
		{time.Second, "-1ms", "1"},
		{time.Second, "2s", "1"},
		{time.Second, "", "1"},
		{time.Second, "0ms", "0"},
		{time.Second, "0ms", "257"},
		{time.Second, "0ms", "1,x"},
	} {
		if _, err := newSettings(false, true, bad.duration, bad.latencies, bad.clients); err == nil {
			t.Errorf("newSettings(%v, %q, %q) accepted", bad.duration, bad.latencies, bad.clients)
		}
	}
}
