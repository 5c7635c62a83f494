package main

import (
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/koodrive/facade/koodrive"
)

// metrics is the Prometheus side of gqlhttp.Observer, graph.Observer and koodrive.Observer.
type metrics struct {
	registry        *prometheus.Registry
	requests        *prometheus.CounterVec
	requestSeconds  *prometheus.HistogramVec
	errors          *prometheus.CounterVec
	upstreamCalls   *prometheus.CounterVec
	upstreamSeconds *prometheus.HistogramVec
	batchSize       prometheus.Histogram
	cacheLookups    *prometheus.CounterVec
	breakerState    *prometheus.GaugeVec
	clockOffset     prometheus.Gauge
	clockRetries    *prometheus.CounterVec
	holds           *prometheus.CounterVec
	redisFallbacks  *prometheus.CounterVec
	rateLimited     *prometheus.CounterVec
	fieldUsage      *prometheus.CounterVec
	outsideManifest prometheus.Counter
	redisUp         prometheus.Gauge
	redisOnce       sync.Once
	operations      boundedLabels
}

func newMetrics(inFlight func() float64) *metrics {
	m := &metrics{registry: prometheus.NewRegistry(), operations: boundedLabels{max: 100}}
	f := func(c prometheus.Collector) { m.registry.MustRegister(c) }
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "graphql_requests_total", Help: "GraphQL requests by operation name and outcome (ok, partial, error)."}, []string{"operation", "outcome"})
	m.requestSeconds = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "graphql_request_duration_seconds", Help: "GraphQL request latency by operation name.", Buckets: prometheus.ExponentialBuckets(0.001, 2, 15)}, []string{"operation"})
	m.errors = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "graphql_errors_total", Help: "GraphQL errors by extensions.code."}, []string{"code"})
	m.upstreamCalls = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "koodrive_calls_total", Help: "KooDrive call attempts by endpoint and HTTP status (0: no answer)."}, []string{"endpoint", "status"})
	m.upstreamSeconds = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "koodrive_call_duration_seconds", Help: "KooDrive call attempt latency by endpoint.", Buckets: prometheus.ExponentialBuckets(0.001, 2, 15)}, []string{"endpoint"})
	m.batchSize = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "user_loader_batch_size", Help: "GET /users calls started together: the owners of a group page, or the new users of a loader batch.", Buckets: []float64{1, 2, 5, 10, 20, 50, 100}})
	m.cacheLookups = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "koodrive_user_cache_lookups_total", Help: "User cache lookups by result: hit (this process), shared_hit (the fleet's Redis), miss."}, []string{"result"})
	m.breakerState = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "koodrive_breaker_state", Help: "Circuit breaker state by endpoint: 0 closed, 1 half-open, 2 open."}, []string{"endpoint"})
	m.clockOffset = prometheus.NewGauge(prometheus.GaugeOpts{Name: "koodrive_clock_offset_seconds", Help: "Estimated KooDrive clock minus this host's, from its Date headers (a lower bound, up to about 1 s under); X-Date follows it."})
	m.clockRetries = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "koodrive_clock_retries_total", Help: "KooDrive calls retried once after a 401 for an X-Date outside KooDrive's window, by endpoint."}, []string{"endpoint"})
	m.holds = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "koodrive_holds_total", Help: "Holds on an endpoint's calls after KooDrive answered 429 with Retry-After, here or in another replica of the fleet."}, []string{"endpoint"})
	m.redisFallbacks = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "fleet_redis_fallbacks_total", Help: "Redis calls that failed, or were not tried while Redis was down, so the replica used its local state, by operation."}, []string{"op"})
	m.rateLimited = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "rate_limited_total", Help: "Refusals by rate limit: caller (an operation over its caller's RATE_LIMIT: HTTP 429), koodrive (a call with no slot under KOODRIVE_RATE_LIMIT in time)."}, []string{"reason"})
	m.fieldUsage = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "graphql_field_usage_total", Help: "Operations run that select a schema field, by type and field (introspection not counted): when a deprecated field is no longer asked for."}, []string{"type", "field"})
	m.outsideManifest = prometheus.NewCounter(prometheus.CounterOpts{Name: "persisted_queries_outside_manifest_total", Help: "Operations that ran under PERSISTED_QUERIES_AUDIT though the manifest does not list them: what PERSISTED_QUERIES_ONLY would refuse."})
	m.redisUp = prometheus.NewGauge(prometheus.GaugeOpts{Name: "fleet_redis_up", Help: "1 while the fleet's Redis answers, 0 while the replica works from its local state (absent without REDIS_URL)."})
	for _, c := range []prometheus.Collector{m.requests, m.requestSeconds, m.errors, m.upstreamCalls, m.upstreamSeconds, m.batchSize, m.cacheLookups, m.breakerState, m.clockOffset, m.clockRetries, m.holds, m.redisFallbacks, m.rateLimited, m.fieldUsage, m.outsideManifest,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "http_requests_in_flight", Help: "HTTP requests being served."}, inFlight),
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})} {
		f(c)
	}
	for _, endpoint := range koodrive.Endpoints {
		m.breakerState.WithLabelValues(endpoint).Set(0)
	}
	return m
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{EnableOpenMetrics: true})
}

// gqlhttp.Observer

func (m *metrics) Request(operation, outcome string, d time.Duration, traceID string) {
	op := m.operations.label(operation)
	m.requests.WithLabelValues(op, outcome).Inc()
	h := m.requestSeconds.WithLabelValues(op)
	if traceID == "" {
		h.Observe(d.Seconds())
		return
	}
	// An exemplar leads from a slow bucket to its trace (OpenMetrics format only).
	h.(prometheus.ExemplarObserver).ObserveWithExemplar(d.Seconds(), prometheus.Labels{"trace_id": traceID})
}

func (m *metrics) Error(code string)         { m.errors.WithLabelValues(code).Inc() }
func (m *metrics) RateLimited(reason string) { m.rateLimited.WithLabelValues(reason).Inc() }
func (m *metrics) OutsideManifest()          { m.outsideManifest.Inc() }
func (m *metrics) FieldUsed(typeName, field string) {
	m.fieldUsage.WithLabelValues(typeName, field).Inc()
}

// graph.Observer

func (m *metrics) UserBatch(size int) { m.batchSize.Observe(float64(size)) }

// koodrive.Observer

func (m *metrics) UpstreamCall(endpoint string, status int, d time.Duration) {
	m.upstreamCalls.WithLabelValues(endpoint, strconv.Itoa(status)).Inc()
	m.upstreamSeconds.WithLabelValues(endpoint).Observe(d.Seconds())
}

func (m *metrics) UserCacheLookup(result string) { m.cacheLookups.WithLabelValues(result).Inc() }

func (m *metrics) Held(endpoint string, _ time.Time) { m.holds.WithLabelValues(endpoint).Inc() }
func (m *metrics) CallLimited()                      { m.rateLimited.WithLabelValues("koodrive").Inc() }

// fleet.Observer

func (m *metrics) RedisFallback(op string) { m.redisFallbacks.WithLabelValues(op).Inc() }

// RedisUp registers the gauge on first use: without REDIS_URL there is no Redis to report.
func (m *metrics) RedisUp(up bool) {
	m.redisOnce.Do(func() { m.registry.MustRegister(m.redisUp) })
	m.redisUp.Set(map[bool]float64{false: 0, true: 1}[up])
}

func (m *metrics) BreakerStateChange(endpoint, state string) {
	value := map[string]float64{"closed": 0, "half-open": 1, "open": 2}[state]
	m.breakerState.WithLabelValues(endpoint).Set(value)
}

func (m *metrics) ClockOffset(offset time.Duration) { m.clockOffset.Set(offset.Seconds()) }
func (m *metrics) ClockRetry(endpoint string)       { m.clockRetries.WithLabelValues(endpoint).Inc() }

// boundedLabels caps the distinct values of a client-chosen label (operation names), so
// a client cannot grow the metrics without bound.
type boundedLabels struct {
	mu   sync.Mutex
	max  int
	seen map[string]bool
}

func (b *boundedLabels) label(v string) string {
	if v == "" {
		return "anonymous"
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.seen == nil {
		b.seen = map[string]bool{}
	}
	if !b.seen[v] && len(b.seen) >= b.max {
		return "other"
	}
	b.seen[v] = true
	return v
}
