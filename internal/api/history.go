package api

import (
	"context"
	"net/http"
	"sync"
	"time"
)

// historyLen is how many lag samples per migration are kept (one a second).
const historyLen = 900

// LagPoint is one lag sample.
type LagPoint struct {
	Unix    int64   `json:"t"`
	Seconds float64 `json:"lag_seconds"`
	Bytes   int64   `json:"lag_bytes"`
}

// history keeps the recent lag of every migration, for the dashboard's chart.
type history struct {
	mu   sync.Mutex
	lags map[string][]LagPoint
}

// Sample records the lag of every migration each interval until ctx ends.
func (s *Server) Sample(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if list, err := s.statuses(ctx); err == nil {
			now := time.Now().Unix()
			s.hist.mu.Lock()
			if s.hist.lags == nil {
				s.hist.lags = map[string][]LagPoint{}
			}
			seen := map[string]bool{}
			for _, st := range list {
				seen[st.Name] = true
				h := append(s.hist.lags[st.Name], LagPoint{Unix: now, Seconds: st.LagSeconds, Bytes: st.LagBytes})
				if len(h) > historyLen {
					h = h[len(h)-historyLen:]
				}
				s.hist.lags[st.Name] = h
			}
			for name := range s.hist.lags {
				if !seen[name] {
					delete(s.hist.lags, name)
				}
			}
			s.hist.mu.Unlock()
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (s *Server) lag(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if _, code, err := s.status(r.Context(), name); err != nil {
		writeError(w, code, err)
		return
	}
	s.hist.mu.Lock()
	out := append([]LagPoint{}, s.hist.lags[name]...)
	s.hist.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}
