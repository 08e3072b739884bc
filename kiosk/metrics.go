package kiosk

import (
	"context"
	"runtime"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/nfcbridge/nfcbridge/mrtd"
)

// metrics are the service's Prometheus metrics. They are registered with
// Config.Registerer, a private registry: the package has no global state.
type metrics struct {
	reads         *prometheus.CounterVec
	readSeconds   prometheus.Histogram
	uploadSeconds *prometheus.HistogramVec
	apdus         prometheus.Counter
	active        prometheus.Gauge
	resumes       prometheus.Counter
	outboxEvents  *prometheus.CounterVec
	checks        *prometheus.CounterVec
}

// gauges are what newMetrics reads at scrape time.
type gauges struct {
	outboxDepth func() float64
	pcscUp      func() float64
	version     string
}

func newMetrics(reg prometheus.Registerer, g gauges) (*metrics, error) {
	m := &metrics{
		reads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "nfcbridge_reads_total",
			Help: "Reads that reached a final state, by outcome (done, failed, canceled) and error code.",
		}, []string{"outcome", "code"}),
		readSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "nfcbridge_read_duration_seconds",
			Help:    "Time from connecting to the chip to the last byte read, for successful reads.",
			Buckets: []float64{0.25, 0.5, 1, 1.5, 2, 3, 4, 6, 8, 12, 20, 30},
		}),
		uploadSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "nfcbridge_upload_duration_seconds",
			Help:    "Time of an upload attempt, retries included, by result (ok, queued, failed, canceled).",
			Buckets: []float64{0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60},
		}, []string{"result"}),
		apdus: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "nfcbridge_apdus_total",
			Help: "Command APDUs sent to chips.",
		}),
		active: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "nfcbridge_reads_active",
			Help: "Reads not finished: waiting for a card, reading, uploading or queued.",
		}),
		resumes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "nfcbridge_read_resumes_total",
			Help: "Reads resumed after the card was taken off the reader and put back.",
		}),
		checks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "nfcbridge_authenticity_checks_total",
			Help: "Outcomes of the authenticity checks of completed chip reads, by check (passive, hashes, chip, active) and outcome.",
		}, []string{"check", "outcome"}),
		outboxEvents: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "nfcbridge_outbox_events_total",
			Help: "Outcomes of queued uploads: delivered, failed, expired, retrying, quarantined.",
		}, []string{"kind"}),
	}
	if reg == nil {
		return m, nil
	}
	cs := []prometheus.Collector{m.reads, m.readSeconds, m.uploadSeconds, m.apdus, m.active, m.resumes, m.outboxEvents, m.checks}
	cs = append(cs, prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "nfcbridge_outbox_depth",
		Help: "Uploads stored in the outbox, waiting for delivery.",
	}, g.outboxDepth), prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "nfcbridge_pcsc_up",
		Help: "1 when pcscd answers (the readers can be listed), else 0.",
	}, g.pcscUp), prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name:        "nfcbridge_build_info",
		Help:        "Always 1; the labels say which build runs.",
		ConstLabels: prometheus.Labels{"version": g.version, "goversion": runtime.Version()},
	}, func() float64 { return 1 }))
	for _, c := range cs {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// pcscUp is nfcbridge_pcsc_up: whether pcscd lists the readers now.
func (s *Service) pcscUp() float64 {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if _, err := s.cfg.Readers.Readers(ctx); err != nil {
		return 0
	}
	return 1
}

// authenticity counts the outcome of each check of a read.
func (m *metrics) authenticity(a mrtd.Authenticity) {
	passive := string(a.Passive.Status)
	if passive == "" {
		passive = "not_run"
	}
	m.checks.WithLabelValues("passive", passive).Inc()
	m.checks.WithLabelValues("hashes", a.Passive.Hashes.String()).Inc()
	m.checks.WithLabelValues("chip", a.Chip.Outcome.String()).Inc()
	m.checks.WithLabelValues("active", a.Active.Outcome.String()).Inc()
}
