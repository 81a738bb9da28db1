package load

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/bootsplash/bootsplash/splash"
	"github.com/bootsplash/bootsplash/splash/control"
)

// Report is what a load measured. Durations are in nanoseconds in JSON.
type Report struct {
	// Clients is how many clients sent at once.
	Clients int `json:"clients"`
	// Messages is how many requests the clients sent (the final state's
	// not counted), and ByFrontend how many went over each front end.
	Messages   int            `json:"messages"`
	ByFrontend map[string]int `json:"by_frontend"`
	// Wall is the time from the first request to the last one answered.
	Wall time.Duration `json:"wall"`
	// PerSecond is Messages over Wall.
	PerSecond float64 `json:"per_second"`

	// IdlePingP50 is the median ping round trip before the load started.
	IdlePingP50 time.Duration `json:"idle_ping_p50"`
	// Pings is how many pings were answered during the load; their round
	// trips' median, 99th percentile and maximum follow.
	Pings   int           `json:"pings"`
	PingP50 time.Duration `json:"ping_p50"`
	PingP99 time.Duration `json:"ping_p99"`
	PingMax time.Duration `json:"ping_max"`
	// SlowPings is how many round trips took longer than PingLimit.
	SlowPings int           `json:"slow_pings"`
	PingLimit time.Duration `json:"ping_limit"`
	// SlowPingsAt says when the first slow pings were sent, from the
	// start of the load (at most maxSlowAt of them): whether they come
	// in a burst or spread over the load.
	SlowPingsAt []time.Duration `json:"slow_pings_at,omitempty"`

	// Memory is the daemon's memory during the load; nil when no PID
	// was given.
	Memory *Memory `json:"memory,omitempty"`

	// Final is the state sent last, which the screen must end in.
	Final Final `json:"final"`
}

// Memory is what /proc/PID/status said of the daemon's memory while the
// load ran, in KiB.
type Memory struct {
	// PID is the daemon's process; Samples is how many times its status
	// was read.
	PID     int `json:"pid"`
	Samples int `json:"samples"`
	// RSSStart is VmRSS before the first request; RSSEnd after the final
	// state.
	RSSStart int64 `json:"rss_start_kb"`
	RSSEnd   int64 `json:"rss_end_kb"`
	// RSSPeakFirst and RSSPeakSecond are the largest VmRSS sampled while
	// the first and the second half of the requests went out: a daemon
	// whose memory is bounded has no larger peak in the second half.
	RSSPeakFirst  int64 `json:"rss_peak_first_half_kb"`
	RSSPeakSecond int64 `json:"rss_peak_second_half_kb"`
	// HWM is VmHWM at the end: the largest RSS the daemon ever had.
	HWM int64 `json:"hwm_kb"`
}

// Responsive reports whether the daemon answered pings in time while
// loaded: at most SlowPercent pings in a hundred over PingLimit, and none
// over StallLimit times it. Some late pings are the machine's noise: the
// VM's one emulated CPU shares a host with other work, and on a host with
// a load average of 7 on 2 cores 1.7% of the pings of a daemon that kept
// up were late (none over 512 ms). A daemon that stops serving, or serves
// the flood before the pings, makes most of them late or one very late.
func (r *Report) Responsive() bool {
	return r.Pings > 0 && r.SlowPings*100 <= SlowPercent*r.Pings && r.PingMax <= StallLimit*r.PingLimit
}

// SlowPercent is how many pings in a hundred may take longer than
// PingLimit.
const SlowPercent = 5

// StallLimit is how many times PingLimit the slowest ping may take.
const StallLimit = 10

// State is the final state as the daemon holds it and splash.RenderFrame
// draws it.
func (f Final) State() splash.State {
	return splash.State{Progress: float64(f.Progress) / 100, Message: f.Message, Status: f.Status}
}

func (r *Report) add(frontend string, n int) {
	if r.ByFrontend == nil {
		r.ByFrontend = map[string]int{}
	}
	r.ByFrontend[frontend] += n
	r.Messages += n
}

// WriteTable writes the report for a person, one figure a line.
func (r *Report) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row := func(name, format string, args ...any) {
		fmt.Fprintf(tw, "%s\t"+format+"\n", append([]any{name}, args...)...)
	}
	ms := func(d time.Duration) string { return fmt.Sprintf("%.3f ms", float64(d.Microseconds())/1000) }
	row("clients", "%d", r.Clients)
	row("requests", "%d (native %d, plymouth %d, psplash %d)", r.Messages, r.ByFrontend[Native], r.ByFrontend[Plymouth], r.ByFrontend[Psplash])
	row("wall time", "%v", r.Wall.Round(time.Millisecond))
	row("requests/s", "%.0f", r.PerSecond)
	row("idle ping p50", "%s", ms(r.IdlePingP50))
	row("pings", "%d", r.Pings)
	row("ping p50", "%s", ms(r.PingP50))
	row("ping p99", "%s", ms(r.PingP99))
	row("ping max", "%s", ms(r.PingMax))
	row("pings over "+r.PingLimit.String(), "%d", r.SlowPings)
	if len(r.SlowPingsAt) > 0 {
		at := make([]string, len(r.SlowPingsAt))
		for i, d := range r.SlowPingsAt {
			at[i] = d.Round(time.Millisecond).String()
		}
		row("slow pings sent at", "%s", strings.Join(at, " "))
	}
	if m := r.Memory; m != nil {
		row("daemon pid", "%d (%d samples)", m.PID, m.Samples)
		row("VmRSS start/end", "%d / %d KiB", m.RSSStart, m.RSSEnd)
		row("VmRSS peak 1st/2nd half", "%d / %d KiB", m.RSSPeakFirst, m.RSSPeakSecond)
		row("VmHWM", "%d KiB", m.HWM)
	}
	row("final state", "progress %d%%, message %q, status %q", r.Final.Progress, r.Final.Message, r.Final.Status)
	return tw.Flush()
}

// pings records the pinger's round trips.
type pings struct {
	limit time.Duration
	mu    sync.Mutex
	start time.Time // the load's start, for slowAt
	rtts  []time.Duration
	// slowAt are the first round trips over limit, as offsets from start.
	slowAt []time.Duration
}

// maxSlowAt bounds Report.SlowPingsAt.
const maxSlowAt = 32

func newPings(limit time.Duration, start time.Time) *pings {
	return &pings{limit: limit, start: start}
}

// pingTimeout bounds one ping: a daemon that takes longer is stuck, not
// slow.
const pingTimeout = 10 * time.Second

// run pings over cl, pausing every between pings, until stop is closed;
// it pings at least once.
func (p *pings) run(ctx context.Context, cl *control.Client, every time.Duration, stop <-chan struct{}) error {
	pause := time.NewTimer(every)
	defer pause.Stop()
	for {
		pctx, cancel := context.WithTimeout(ctx, pingTimeout)
		t0 := time.Now()
		err := cl.Do(pctx, control.Command{Kind: control.Ping})
		rtt := time.Since(t0)
		cancel()
		if err != nil {
			return fmt.Errorf("ping during the load: %w", err)
		}
		p.mu.Lock()
		p.rtts = append(p.rtts, rtt)
		if rtt > p.limit && len(p.slowAt) < maxSlowAt {
			p.slowAt = append(p.slowAt, t0.Sub(p.start))
		}
		p.mu.Unlock()
		pause.Reset(every)
		select {
		case <-stop:
			return nil
		case <-pause.C:
		}
	}
}

func (p *pings) summarise(r *Report) {
	p.mu.Lock()
	defer p.mu.Unlock()
	r.Pings = len(p.rtts)
	r.SlowPingsAt = slices.Clone(p.slowAt)
	r.PingP50, r.PingP99 = percentile(p.rtts, 50), percentile(p.rtts, 99)
	for _, d := range p.rtts {
		r.PingMax = max(r.PingMax, d)
		if d > p.limit {
			r.SlowPings++
		}
	}
}

// percentile is the nearest-rank q-th percentile of ds (0 for none).
func percentile(ds []time.Duration, q int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := (q*len(s) + 99) / 100 // ceil(q/100 * n), 1-based
	return s[max(i, 1)-1]
}
