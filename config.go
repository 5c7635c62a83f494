package main

import (
	"errors"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/koodrive/facade/fleet"
	"github.com/koodrive/facade/graph/gqlhttp"
	"github.com/koodrive/facade/koodrive"
)

// config is read from environment variables, each overridable by its flag.
type config struct {
	Port                 string
	KooDriveBaseURL      string
	KooDriveTimeout      time.Duration
	KooDriveClockMargin  time.Duration // X-Date this far behind KooDrive's estimated clock
	RequestTimeout       time.Duration
	UserCacheTTL         time.Duration // 0: no cross-request user cache
	ShutdownGrace        time.Duration
	ShutdownDelay        time.Duration // not ready, still serving, before the shutdown starts
	CORSAllowedOrigins   []string
	MaxBodyBytes         int64
	Limits               gqlhttp.Limits
	Introspection        bool
	PersistedQueriesOnly bool
	PersistedQueries     string // manifest file of allowed operations
	PersistedAudit       bool   // run operations outside the manifest, but log and count them
	MetricsAddr          string // empty: /metrics on the main port
	LogFormat            string // json, text, or auto (text on a terminal)
	UnreachableAfter     time.Duration
	RedisURL             string // empty: no fleet, everything in process
	RedisPrefix          string
	RedisTimeout         time.Duration
	CacheMaxAge          time.Duration // 0: clients revalidate every GET answer
	RateLimit            *fleet.Rate   // nil: no per-caller limit
	KooDriveRateLimit    *fleet.Rate   // nil: no fleet-wide limit on KooDrive calls
}

const userCacheSize = 10_000

func parseConfig(args []string, getenv func(string) string) (config, error) {
	fs := flag.NewFlagSet("facade", flag.ContinueOnError)
	env := func(name, key, fallback, usage string) *string {
		v := getenv(key)
		if v == "" {
			v = fallback
		}
		return fs.String(name, v, usage+" (env `"+key+"`)")
	}
	l := gqlhttp.DefaultLimits
	port := env("port", "PORT", "8080", "port to listen on")
	baseURL := env("koodrive-base-url", "KOODRIVE_BASE_URL", "", "KooDrive API base URL, e.g. https://koodrive.example.com; empty starts the embedded demo KooDrive")
	timeout := env("koodrive-timeout", "KOODRIVE_TIMEOUT", koodrive.DefaultTimeout.String(), "timeout of each KooDrive call attempt")
	clockMargin := env("koodrive-clock-margin", "KOODRIVE_CLOCK_MARGIN", koodrive.DefaultClockMargin.String(), "X-Date is this far behind KooDrive's clock as its Date headers show it (under 15m)")
	budget := env("request-timeout", "REQUEST_TIMEOUT", gqlhttp.DefaultRequestTimeout.String(), "budget of one GraphQL request, retries included")
	cacheTTL := env("user-cache-ttl", "USER_CACHE_TTL", "0", "keep KooDrive users this long across requests, per caller; 0 turns the cache off")
	grace := env("shutdown-grace", "SHUTDOWN_GRACE", "20s", "on SIGTERM/SIGINT, how long in-flight requests may take to finish")
	delay := env("shutdown-delay", "SHUTDOWN_DELAY", "0s", "on SIGTERM/SIGINT, how long /readyz answers 503 while still serving, so load balancers stop sending first")
	origins := env("cors-allowed-origins", "CORS_ALLOWED_ORIGINS", "", "comma-separated origins allowed to call /query from a browser, * for any; empty allows same-origin only")
	bodyBytes := env("max-body-bytes", "MAX_BODY_BYTES", "1048576", "largest request body accepted")
	tokens := env("max-tokens", "MAX_TOKENS", strconv.Itoa(l.MaxTokens), "most parser tokens in a query")
	depth := env("max-depth", "MAX_DEPTH", strconv.Itoa(l.MaxDepth), "deepest field nesting in an operation")
	aliases := env("max-aliases", "MAX_ALIASES", strconv.Itoa(l.MaxAliases), "most aliases in an operation")
	roots := env("max-root-fields", "MAX_ROOT_FIELDS", strconv.Itoa(l.MaxRootFields), "most top-level fields in an operation")
	cost := env("max-complexity", "MAX_COMPLEXITY", strconv.Itoa(l.MaxComplexity), "highest estimated cost of an operation (a KooDrive call costs 10, a field 1, a connection times first)")
	introspection := env("introspection", "INTROSPECTION", "true", "allow introspection and field suggestions; set false in production")
	pqOnly := env("persisted-queries-only", "PERSISTED_QUERIES_ONLY", "false", "accept only the operations of the persisted-query manifest")
	pqAudit := env("persisted-queries-audit", "PERSISTED_QUERIES_AUDIT", "false", "with a manifest, let operations outside it run but log and count them (before PERSISTED_QUERIES_ONLY)")
	pqFile := env("persisted-queries", "PERSISTED_QUERIES", "", "persisted-query manifests, comma-separated (Apollo or Relay JSON format)")
	metrics := env("metrics-addr", "METRICS_ADDR", "", "serve /metrics on this address (e.g. :9090) instead of the main port")
	unreachable := env("ready-unreachable-after", "READY_UNREACHABLE_AFTER", "30s", "/readyz answers 503 once KooDrive has not answered for this long")
	redisURL := env("redis-url", "REDIS_URL", "", "Redis shared by the replicas of a fleet (redis:// or rediss://, password in the URL); empty keeps all state in process")
	redisPrefix := env("redis-prefix", "REDIS_PREFIX", fleet.DefaultPrefix, "prefix of every Redis key")
	redisTimeout := env("redis-timeout", "REDIS_TIMEOUT", fleet.DefaultTimeout.String(), "timeout of each Redis call; on failure a replica uses its local state")
	cacheMaxAge := env("cache-max-age", "CACHE_MAX_AGE", "0", "clients may keep an answer to a query over GET this long without asking (private, max-age); 0: they revalidate each time (ETag, 304)")
	rateLimit := env("rate-limit", "RATE_LIMIT", "", "KooDrive calls one caller's operations may cause: N/s, N/m or N/h, a burst of N; empty: no limit")
	kdRateLimit := env("koodrive-rate-limit", "KOODRIVE_RATE_LIMIT", "", "KooDrive calls per second across the fleet, all callers together (N or N/s); empty: no limit")
	logFormat := env("log-format", "LOG_FORMAT", "auto", "json, text, or auto (text on a terminal, json otherwise)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: facade [flags]\n\nEach flag defaults to the environment variable it names; durations are Go durations (10s, 1m).\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return config{}, err
	}
	p := configParser{}
	cfg := config{
		Port:                *port,
		KooDriveBaseURL:     *baseURL,
		KooDriveTimeout:     p.duration("KOODRIVE_TIMEOUT", *timeout, false),
		KooDriveClockMargin: p.duration("KOODRIVE_CLOCK_MARGIN", *clockMargin, true),
		RequestTimeout:      p.duration("REQUEST_TIMEOUT", *budget, false),
		UserCacheTTL:        p.duration("USER_CACHE_TTL", *cacheTTL, true),
		ShutdownGrace:       p.duration("SHUTDOWN_GRACE", *grace, true),
		ShutdownDelay:       p.duration("SHUTDOWN_DELAY", *delay, true),
		MaxBodyBytes:        int64(p.positive("MAX_BODY_BYTES", *bodyBytes)),
		Limits: gqlhttp.Limits{
			MaxTokens:     p.positive("MAX_TOKENS", *tokens),
			MaxDepth:      p.positive("MAX_DEPTH", *depth),
			MaxAliases:    p.positive("MAX_ALIASES", *aliases),
			MaxRootFields: p.positive("MAX_ROOT_FIELDS", *roots),
			MaxComplexity: p.positive("MAX_COMPLEXITY", *cost),
		},
		Introspection:        p.boolean("INTROSPECTION", *introspection),
		PersistedQueriesOnly: p.boolean("PERSISTED_QUERIES_ONLY", *pqOnly),
		PersistedAudit:       p.boolean("PERSISTED_QUERIES_AUDIT", *pqAudit),
		PersistedQueries:     *pqFile,
		MetricsAddr:          *metrics,
		LogFormat:            *logFormat,
		UnreachableAfter:     p.duration("READY_UNREACHABLE_AFTER", *unreachable, false),
		RedisURL:             *redisURL,
		RedisPrefix:          *redisPrefix,
		RedisTimeout:         p.duration("REDIS_TIMEOUT", *redisTimeout, false),
		CacheMaxAge:          p.duration("CACHE_MAX_AGE", *cacheMaxAge, true),
	}
	for _, o := range strings.Split(*origins, ",") {
		if o = strings.TrimSpace(o); o != "" {
			cfg.CORSAllowedOrigins = append(cfg.CORSAllowedOrigins, o)
		}
	}
	if (cfg.PersistedQueriesOnly || cfg.PersistedAudit) && cfg.PersistedQueries == "" {
		p.errs = append(p.errs, errors.New("PERSISTED_QUERIES_ONLY and PERSISTED_QUERIES_AUDIT need a PERSISTED_QUERIES manifest"))
	}
	if cfg.PersistedQueriesOnly && cfg.PersistedAudit {
		p.errs = append(p.errs, errors.New("PERSISTED_QUERIES_AUDIT is the step before PERSISTED_QUERIES_ONLY: set one"))
	}
	cfg.RateLimit = p.rate("RATE_LIMIT", *rateLimit)
	cfg.KooDriveRateLimit = p.rate("KOODRIVE_RATE_LIMIT", *kdRateLimit)
	if cfg.KooDriveClockMargin >= 15*time.Minute {
		p.errs = append(p.errs, fmt.Errorf("KOODRIVE_CLOCK_MARGIN: %s is not under KooDrive's 15-minute X-Date window", cfg.KooDriveClockMargin))
	}
	if cfg.LogFormat != "auto" && cfg.LogFormat != "json" && cfg.LogFormat != "text" {
		p.errs = append(p.errs, fmt.Errorf("LOG_FORMAT: %q is not json, text or auto", cfg.LogFormat))
	}
	return cfg, errors.Join(p.errs...)
}

// configParser collects every bad value, so one run reports them all.
type configParser struct{ errs []error }

func (p *configParser) duration(key, value string, allowZero bool) time.Duration {
	d, err := time.ParseDuration(value)
	if err != nil || d < 0 || (d == 0 && !allowZero) {
		p.errs = append(p.errs, fmt.Errorf("%s: %q is not a positive duration", key, value))
	}
	return d
}

// rate reads an optional rate; empty is none.
func (p *configParser) rate(key, value string) *fleet.Rate {
	if value == "" {
		return nil
	}
	r, err := fleet.ParseRate(value)
	if err != nil {
		p.errs = append(p.errs, fmt.Errorf("%s: %w", key, err))
		return nil
	}
	return &r
}

func (p *configParser) positive(key, value string) int {
	n, err := strconv.Atoi(value)
	if err != nil || n <= 0 {
		p.errs = append(p.errs, fmt.Errorf("%s: %q is not a positive integer", key, value))
	}
	return n
}

func (p *configParser) boolean(key, value string) bool {
	b, err := strconv.ParseBool(value)
	if err != nil {
		p.errs = append(p.errs, fmt.Errorf("%s: %q is not true or false", key, value))
	}
	return b
}
