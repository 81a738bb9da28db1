package load

import (
	"testing"
	"time"
)

func TestResponsive(t *testing.T) {
	limit := 100 * time.Millisecond
	for _, c := range []struct {
		pings, slow int
		max         time.Duration
		want        bool
	}{
		{0, 0, 0, false}, // no ping came back at all
		{1000, 0, 90 * time.Millisecond, true},
		{1000, 50, 300 * time.Millisecond, true},   // five in a hundred late: noise
		{1000, 51, 300 * time.Millisecond, false},  // more: the daemon lags
		{1000, 900, 300 * time.Millisecond, false}, // the flood served before the pings
		{1000, 1, 1001 * time.Millisecond, false},  // one stalled past 10x the limit
	} {
		r := &Report{Pings: c.pings, SlowPings: c.slow, PingMax: c.max, PingLimit: limit}
		if got := r.Responsive(); got != c.want {
			t.Errorf("%d pings, %d slow, max %v: Responsive %v, want %v", c.pings, c.slow, c.max, got, c.want)
		}
	}
}
