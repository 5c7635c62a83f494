package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/koodrive/facade/koodrive/demo"
)

// Control paths of the upstream subprocess; nothing under them reaches the demo, so they
// never count as KooDrive calls.
const (
	ctlCalls    = "/_bench/calls"
	ctlDropIdle = "/_bench/drop-idle"
)

// runUpstreamServer is the hidden -upstream-server mode: the demo KooDrive in a process
// of its own, so its CPU is not charged to the facade or the floor.
func runUpstreamServer(latency, maxLife time.Duration) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	up := demo.New(demo.Options{Latency: latency, Tokens: benchTokens()})
	srv := &http.Server{ReadHeaderTimeout: 5 * time.Second}
	mux := http.NewServeMux()
	// The demo counts requests per X-Traceid in a map that only grows: the facade sends a
	// fresh id per request and the floor none, so left in, the upstream would spend more
	// CPU (map growth, GC) on the facade's calls than on the floor's, on the same cores.
	mux.Handle("/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Header.Del("X-Traceid")
		up.ServeHTTP(w, r)
	}))
	mux.HandleFunc("GET "+ctlCalls, func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintf(w, "%d %d\n", up.Calls(), up.Path(groupsPath))
	})
	// Closing the server's idle keep-alive connections lets the facade's pooled
	// connections (two goroutines each) end, so a goroutine count can go back to the
	// cold baseline and anything left over is a leak, not a pool.
	mux.HandleFunc("POST "+ctlDropIdle, func(w http.ResponseWriter, _ *http.Request) {
		srv.SetKeepAlivesEnabled(false)
		srv.SetKeepAlivesEnabled(true)
		_, _ = io.WriteString(w, "ok\n")
	})
	srv.Handler = mux
	fmt.Fprintln(os.Stdout, ln.Addr().String())
	return serveWith(srv, ln, maxLife)
}

// benchTokens are the demo token and one token per load client: clients with credentials
// of their own cannot share upstream calls through the facade's coalescing, which would
// otherwise give the facade less upstream work per request than the floor.
func benchTokens() []string {
	tokens := []string{demo.Token}
	for i := range maxClients {
		tokens = append(tokens, clientToken(i))
	}
	return tokens
}

func clientToken(i int) string { return fmt.Sprintf("bench-client-%02d", i) }

const maxClients = 64

func serveFor(ln net.Listener, h http.Handler, maxLife time.Duration) error {
	return serveWith(&http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}, ln, maxLife)
}

// serveWith serves until SIGTERM/SIGINT or maxLife, a backstop should the parent die
// without its death signal reaching us.
func serveWith(srv *http.Server, ln net.Listener, maxLife time.Duration) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, maxLife)
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutCtx, cancelShut := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancelShut()
	if err := srv.Shutdown(shutCtx); err != nil {
		_ = srv.Close()
	}
	return nil
}

func isLoopbackURL(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil {
		return false
	}
	ip := net.ParseIP(u.Hostname())
	return ip != nil && ip.IsLoopback()
}
