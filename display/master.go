package display

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"syscall"
	"time"

	"github.com/bootsplash/bootsplash/client"
)

// drop gives DRM master up, if the display holds it.
func (ks *kmsDisplay) drop() error {
	if ks.dev == nil || !ks.holding() {
		return nil
	}
	if err := ks.dev.DropMaster(); err != nil {
		if ks.departed("drop master", err) {
			return nil
		}
		return err
	}
	return nil
}

// take takes DRM master back once the display is held again,
// looks at the connectors again if a hotplug came meanwhile, and sets
// every head's mode and plane again; each head then wants a full frame.
func (ks *kmsDisplay) take() error {
	if !ks.holding() {
		return nil
	}
	if ks.dev != nil {
		if err := ks.dev.SetMaster(); err != nil {
			if !ks.departed("set master", err) {
				return err
			}
		}
	}
	if ks.stale {
		ks.stale = false
		if err := ks.refresh(); err != nil {
			ks.log.Warn(fmt.Sprintf("hotplug: %v", err))
		}
	}
	return ks.each("restore", func(h *head) error {
		h.h.full = true
		return h.k.Restore()
	})
}

// Deactivate drops DRM master.
func (ks *kmsDisplay) Deactivate() error {
	if err := ks.drop(); err != nil {
		return err
	}
	ks.master = false
	return nil
}

// Reactivate takes master back (once the VT is back, if it was switched
// away) and sets the heads' modes again.
func (ks *kmsDisplay) Reactivate() error {
	if ks.master {
		return nil
	}
	ks.master = true
	if err := ks.take(); err != nil {
		ks.master = false
		return err
	}
	return nil
}

// masterBusy says whether a SET_MASTER error means another process holds
// master (worth waiting for) rather than a lasting refusal.
func masterBusy(err error) bool {
	return errors.Is(err, syscall.EBUSY) || errors.Is(err, syscall.EACCES) || errors.Is(err, syscall.EPERM)
}

// takeMaster makes dev's file DRM master, waiting up to wait while another
// process holds it and saying so; it stops waiting when ctx is done.
func takeMaster(ctx context.Context, dev *client.Device, wait time.Duration, log *slog.Logger) error {
	err := dev.SetMaster()
	if err == nil || !masterBusy(err) {
		return err
	}
	if wait <= 0 {
		return fmt.Errorf("%w (not waiting: --master-wait is 0)", err)
	}
	log.Info("waiting for DRM master (held by another process)", "device", dev.Path(), "max", wait.String())
	start := time.Now()
	deadline := start.Add(wait)
	pause := 20 * time.Millisecond
	for {
		left := time.Until(deadline)
		if left <= 0 {
			return fmt.Errorf("no DRM master after waiting %v: %w", wait, err)
		}
		select {
		case <-time.After(min(pause, left)):
		case <-ctx.Done():
			return fmt.Errorf("waiting for DRM master: %w", ctx.Err())
		}
		pause = min(2*pause, 250*time.Millisecond)
		if err = dev.SetMaster(); err == nil {
			log.Info("took DRM master", "waited", time.Since(start).Round(time.Millisecond).String())
			return nil
		}
		if !masterBusy(err) {
			return err
		}
	}
}
