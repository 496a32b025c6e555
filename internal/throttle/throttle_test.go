package throttle

import (
	"context"
	"testing"
	"time"
)

func TestRowRate(t *testing.T) {
	clock := time.Unix(0, 0)
	var slept []time.Duration
	r := NewRowRate(1000)
	r.now = func() time.Time { return clock }
	r.sleep = func(_ context.Context, d time.Duration) error {
		slept = append(slept, d)
		if d > 0 {
			clock = clock.Add(d)
		}
		return nil
	}
	ctx := context.Background()
	_ = r.Wait(ctx, 500)               // 500 rows due at 0.5s
	clock = clock.Add(2 * time.Second) // slow work: no wait owed
	_ = r.Wait(ctx, 500)
	_ = r.Wait(ctx, 2000) // 3000 rows due at 3s; clock is at 2.5s
	want := []time.Duration{500 * time.Millisecond, -1500 * time.Millisecond, 500 * time.Millisecond}
	for i := range want {
		if slept[i] != want[i] {
			t.Fatalf("waits = %v, want %v", slept, want)
		}
	}
	if err := (Noop{}).Wait(ctx, 1e9); err != nil {
		t.Fatal(err)
	}
}
