package store

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/godwit-db/godwit/internal/testutil"
)

func open(t *testing.T) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "sub", "godwit.db")
	s, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, path
}

// pgStore opens a store in a fresh PostgreSQL database of the test clusters.
func pgStore(t *testing.T) (*Store, string) {
	t.Helper()
	url := testutil.NewPGDatabase(t, "target")
	s, err := Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, url
}

func TestStoreLifecycle(t *testing.T) {
	s, path := open(t)
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("store file mode: %v %v", fi, err)
	}
	lifecycle(t, s)
}

func TestStoreLifecyclePostgreSQL(t *testing.T) {
	s, _ := pgStore(t)
	lifecycle(t, s)
}

func lifecycle(t *testing.T, s *Store) {
	ctx := context.Background()
	m := &Migration{Name: "orders", Spec: json.RawMessage(`{"a":1}`), State: "CREATED"}
	if err := s.Create(ctx, m); err != nil {
		t.Fatal(err)
	}
	if err := s.Create(ctx, m); !errors.Is(err, ErrExists) {
		t.Fatalf("second create: %v", err)
	}
	if _, err := s.Get(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("get unknown: %v", err)
	}
	if err := s.Update(ctx, "orders", func(m *Migration) error {
		m.State, m.Phase, m.Progress, m.RunnerPID = "RUNNING", "COPYING", json.RawMessage(`{"x":2}`), 42
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(ctx, "orders")
	if err != nil || got.State != "RUNNING" || got.Phase != "COPYING" || string(got.Progress) != `{"x":2}` || got.RunnerPID != 42 || string(got.Spec) != `{"a":1}` {
		t.Fatalf("after update: %+v %v", got, err)
	}
	id, err := s.AddRequest(ctx, "orders", "cancel", map[string]bool{"drop_target": true})
	if err != nil {
		t.Fatal(err)
	}
	reqs, err := s.TakeRequests(ctx, "orders")
	if err != nil || len(reqs) != 1 || reqs[0].Kind != "cancel" || string(reqs[0].Args) != `{"drop_target":true}` {
		t.Fatalf("requests: %+v %v", reqs, err)
	}
	if done, _, err := s.RequestResult(ctx, id); err != nil || done || reqs[0].ID != id {
		t.Fatalf("request done too early: %v %v", done, err)
	}
	if err := s.FinishRequest(ctx, reqs[0].ID, "ok: done"); err != nil {
		t.Fatal(err)
	}
	if done, result, err := s.RequestResult(ctx, id); err != nil || !done || result != "ok: done" {
		t.Fatalf("request result: %v %q %v", done, result, err)
	}
	if reqs, _ := s.TakeRequests(ctx, "orders"); len(reqs) != 0 {
		t.Fatalf("request handed out twice: %+v", reqs)
	}
	for _, msg := range []string{"one", "two", "three"} {
		if err := s.AddEvent(ctx, "orders", "info", msg); err != nil {
			t.Fatal(err)
		}
	}
	ev, err := s.Events(ctx, "orders", 2)
	if err != nil || len(ev) != 2 || ev[0].Message != "two" || ev[1].Message != "three" {
		t.Fatalf("events: %+v %v", ev, err)
	}
	list, err := s.List(ctx)
	if err != nil || len(list) != 1 {
		t.Fatalf("list: %v %v", list, err)
	}
	if err := s.Delete(ctx, "orders"); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, "orders"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("delete twice: %v", err)
	}
}

// Several processes share the store; here several connections update at once.
func TestStoreConcurrentUpdates(t *testing.T) {
	_, path := open(t)
	concurrentUpdates(t, path)
}

func TestStoreConcurrentUpdatesPostgreSQL(t *testing.T) {
	_, url := pgStore(t)
	concurrentUpdates(t, url)
}

func concurrentUpdates(t *testing.T, path string) {
	ctx := context.Background()
	if err := func() error {
		s, err := Open(ctx, path)
		if err != nil {
			return err
		}
		defer s.Close()
		return s.Create(ctx, &Migration{Name: "m", Spec: json.RawMessage(`{}`), State: "CREATED", Progress: json.RawMessage(`0`)})
	}(); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := Open(ctx, path)
			if err != nil {
				errs <- err
				return
			}
			defer s.Close()
			for i := 0; i < 25; i++ {
				if err := s.Update(ctx, "m", func(m *Migration) error {
					var n int
					_ = json.Unmarshal(m.Progress, &n)
					m.Progress, _ = json.Marshal(n + 1)
					return nil
				}); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	s, _ := Open(ctx, path)
	defer s.Close()
	m, err := s.Get(ctx, "m")
	if err != nil || string(m.Progress) != "100" {
		t.Fatalf("lost updates: %s %v", m.Progress, err)
	}
}

// Processes often open a new store at the same moment (a runner and status).
func TestStoreConcurrentOpen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "godwit.db")
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := Open(context.Background(), path)
			if err != nil {
				errs <- err
				return
			}
			s.Close()
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}
