package api

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/godwit-db/godwit/internal/workflow"
)

var states = []workflow.State{workflow.Created, workflow.Running, workflow.Paused, workflow.CuttingOver, workflow.Completed, workflow.Cancelled, workflow.Failed}

var (
	descState    = prometheus.NewDesc("godwit_migration_state", "1 for the state the migration is in, 0 for the others.", []string{"migration", "state"}, nil)
	descInfo     = prometheus.NewDesc("godwit_migration_info", "Constant 1, labelled with the migration's phase.", []string{"migration", "phase"}, nil)
	descRows     = prometheus.NewDesc("godwit_rows_copied_total", "Rows copied to the target, by table.", []string{"migration", "table"}, nil)
	descRowsEst  = prometheus.NewDesc("godwit_rows_estimate", "The source's estimate of a table's rows.", []string{"migration", "table"}, nil)
	descChanges  = prometheus.NewDesc("godwit_changes_applied_total", "Source changes applied to the target.", []string{"migration"}, nil)
	descLag      = prometheus.NewDesc("godwit_lag_seconds", "How far the target is behind the source, in seconds.", []string{"migration"}, nil)
	descLagBytes = prometheus.NewDesc("godwit_lag_bytes", "How far the target is behind the source, in bytes of change log.", []string{"migration"}, nil)
	descRetained = prometheus.NewDesc("godwit_source_retained_bytes", "Change log the source keeps for the migration.", []string{"migration"}, nil)
	descCopyRate = prometheus.NewDesc("godwit_copy_rows_per_second", "Copy rate over the last seconds.", []string{"migration"}, nil)
	descApply    = prometheus.NewDesc("godwit_apply_changes_per_second", "Apply rate over the last seconds.", []string{"migration"}, nil)
	descRetWarn  = prometheus.NewDesc("godwit_source_retained_warning", "1 while the retained change log is over the migration's warning threshold.", []string{"migration"}, nil)
	descConsist  = prometheus.NewDesc("godwit_consistent", "1 once replay has passed the consistency point.", []string{"migration"}, nil)
	descErrors   = prometheus.NewDesc("godwit_migration_failed", "1 when the migration FAILED (its error is in the API).", []string{"migration"}, nil)
	descDiffs    = prometheus.NewDesc("godwit_verify_differences", "Differences the last verification found.", []string{"migration"}, nil)
	descDown     = prometheus.NewDesc("godwit_stream_down_seconds", "How long the change stream has been down and retried (0 while it works).", []string{"migration"}, nil)
)

// collector reads the store at every scrape: the runners publish their
// progress there, so serve and any other runner process are seen alike.
type collector struct{ s *Server }

func (c collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descState, descInfo, descRows, descRowsEst, descChanges, descLag, descLagBytes, descRetained, descRetWarn, descCopyRate, descApply, descConsist, descErrors, descDiffs, descDown} {
		ch <- d
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	list, err := c.s.statuses(c.s.Background)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(descState, err)
		return
	}
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, labels...)
	}
	for _, st := range list {
		for _, s := range states {
			gauge(descState, b2f(st.State == s), st.Name, string(s))
		}
		gauge(descInfo, 1, st.Name, string(st.Phase))
		for _, t := range st.Tables {
			counter(descRows, float64(t.RowsCopied), st.Name, t.Name)
			gauge(descRowsEst, float64(t.RowsEstimate), st.Name, t.Name)
		}
		counter(descChanges, float64(st.ChangesApplied), st.Name)
		gauge(descLag, st.LagSeconds, st.Name)
		gauge(descLagBytes, float64(st.LagBytes), st.Name)
		gauge(descRetained, float64(st.RetainedBytes), st.Name)
		gauge(descRetWarn, b2f(st.RetainedWarning), st.Name)
		gauge(descCopyRate, st.CopyRate, st.Name)
		gauge(descApply, st.ApplyRate, st.Name)
		gauge(descConsist, b2f(st.Consistent), st.Name)
		gauge(descErrors, b2f(st.State == workflow.Failed), st.Name)
		down := 0.0
		if r := st.Retrying; r != nil && st.State == workflow.Running {
			down = time.Since(r.Since).Seconds()
		}
		gauge(descDown, down, st.Name)
		if st.Verify != nil {
			gauge(descDiffs, float64(st.Verify.Differences), st.Name)
		}
	}
}

func (s *Server) metrics(w http.ResponseWriter, r *http.Request) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collector{s})
	promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError}).ServeHTTP(w, r)
}
