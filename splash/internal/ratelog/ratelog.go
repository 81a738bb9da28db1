// Package ratelog logs a line of each kind at most once per interval, the
// way the kernel's printk_ratelimited and dev_warn_ratelimited keep a
// misbehaving device from flooding the log: the first line of a kind is
// written at once, the ones after it within the interval are held, and a
// single line then says how many it stands for. The front ends (control,
// plymouth, psplash) log refusals and bad requests through it, since a
// client can send those as fast as it likes.
package ratelog

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// Limiter writes each kind of line (its message) at most once per
// interval. It is safe for concurrent use; Stop writes what is held.
type Limiter struct {
	log   *slog.Logger
	every time.Duration

	mu    sync.Mutex
	kinds map[string]*kind
}

type kind struct {
	level  slog.Level
	last   time.Time // when a line was last written
	held   int       // lines not written since
	args   []any     // the latest of them
	timer  *time.Timer
	closed bool
}

// New returns a Limiter writing to log at most one line of each kind per
// every.
func New(log *slog.Logger, every time.Duration) *Limiter {
	return &Limiter{log: log, every: every, kinds: map[string]*kind{}}
}

// Warn logs msg at warning level now, or holds it if a line of its kind
// was written less than an interval ago.
func (l *Limiter) Warn(msg string, args ...any) { l.add(slog.LevelWarn, msg, args) }

// Info is Warn at info level.
func (l *Limiter) Info(msg string, args ...any) { l.add(slog.LevelInfo, msg, args) }

// Error is Warn at error level.
func (l *Limiter) Error(msg string, args ...any) { l.add(slog.LevelError, msg, args) }

func (l *Limiter) add(level slog.Level, msg string, args []any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	k := l.kinds[msg]
	if k == nil {
		k = &kind{}
		l.kinds[msg] = k
	}
	k.level = level
	now := time.Now()
	if k.held == 0 && now.Sub(k.last) >= l.every {
		k.last = now
		l.log.Log(context.Background(), level, msg, args...)
		return
	}
	k.held++
	k.args = args
	if k.timer == nil && !k.closed {
		k.timer = time.AfterFunc(k.last.Add(l.every).Sub(now), func() {
			l.mu.Lock()
			defer l.mu.Unlock()
			k.timer = nil
			l.flush(msg, k)
		})
	}
}

// flush writes the line standing for the held ones; l.mu is held.
func (l *Limiter) flush(msg string, k *kind) {
	if k.held == 0 {
		return
	}
	now := time.Now()
	l.log.Log(context.Background(), k.level, fmt.Sprintf("%s (%d times in %v)", msg, k.held, now.Sub(k.last).Round(time.Millisecond)), k.args...)
	k.last, k.held, k.args = now, 0, nil
}

// Stop writes what is held and stops the timers; lines after it are
// still limited but no longer written late.
func (l *Limiter) Stop() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for msg, k := range l.kinds {
		if k.timer != nil {
			k.timer.Stop()
			k.timer = nil
		}
		k.closed = true
		l.flush(msg, k)
	}
}
