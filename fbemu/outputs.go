package fbemu

import (
	"errors"
	"fmt"

	"github.com/bootsplash/bootsplash/client"
)

// SelectOutputs picks every connected connector of a probed device, each
// with its preferred mode and its own CRTC and primary plane, the way
// drm_client_modeset_probe lights up all displays for fbdev. Connectors for
// which no free CRTC is left are skipped; it fails only if none is usable.
func SelectOutputs(s *client.State) ([]*client.Output, error) {
	return SelectOutputsWith(s, OutputsRequest{})
}

// OutputsRequest narrows SelectOutputsWith.
type OutputsRequest struct {
	// Busy are outputs already lit (after a hotplug, the ones kept): their
	// connectors are not picked again and their CRTCs and planes not
	// reused.
	Busy []*client.Output
}

// SelectOutputsWith is SelectOutputs beside the outputs already lit: it
// picks the connected connectors req.Busy does not cover, on CRTCs and
// planes they do not use. Its error matches client.ErrNoDisplay when
// there is nothing more to light.
func SelectOutputsWith(s *client.State, req OutputsRequest) ([]*client.Output, error) {
	used := map[client.CRTCID]bool{}
	usedPlane := map[client.PlaneID]bool{}
	lit := map[client.ConnectorID]bool{}
	for _, o := range req.Busy {
		used[o.CRTC.ID], usedPlane[o.Plane.ID], lit[o.Connector.ID] = true, true, true
	}
	var outs []*client.Output
	var skipped []string
	for _, conn := range s.Connectors {
		if lit[conn.ID] || conn.Status != client.Connected || len(conn.Modes) == 0 {
			continue
		}
		mode, err := client.PickMode(conn.Modes, 0, 0)
		if err != nil {
			skipped = append(skipped, conn.Name+": "+err.Error())
			continue
		}
		if out := pickRoute(s, conn, mode, used, usedPlane); out != nil {
			used[out.CRTC.ID], usedPlane[out.Plane.ID] = true, true
			outs = append(outs, out)
		} else {
			skipped = append(skipped, conn.Name+": no free CRTC with a primary plane")
		}
	}
	if len(outs) == 0 {
		return nil, fmt.Errorf("fbemu: select outputs: no usable connector (%v): %w", skipped, client.ErrNoDisplay)
	}
	return outs, nil
}

// pickRoute finds an encoder, a free CRTC it can drive and a free primary
// plane for that CRTC, preferring what already drives the connector.
func pickRoute(s *client.State, conn *client.Connector, mode client.Mode, used map[client.CRTCID]bool, usedPlane map[client.PlaneID]bool) *client.Output {
	encs := conn.Encoders
	if conn.Encoder != 0 {
		encs = append([]client.EncoderID{conn.Encoder}, encs...)
	}
	for _, eid := range encs {
		var enc *client.Encoder
		for _, e := range s.Encoders {
			if e.ID == eid {
				enc = e
			}
		}
		if enc == nil {
			continue
		}
		for _, crtc := range s.CRTCs {
			if used[crtc.ID] || enc.PossibleCRTCs&(1<<crtc.Index) == 0 {
				continue
			}
			var plane *client.Plane
			for _, p := range s.Planes {
				if p.Type != client.PlanePrimary || usedPlane[p.ID] || p.PossibleCRTCs&(1<<crtc.Index) == 0 {
					continue
				}
				if plane == nil || p.CRTC == crtc.ID {
					plane = p
				}
			}
			if plane != nil {
				return &client.Output{Connector: conn, CRTC: crtc, Plane: plane, Encoder: enc, Mode: mode}
			}
		}
	}
	return nil
}

// NewKMSOutputs makes one framebuffer per output, each at its own mode and
// with its own panel orientation. On failure the ones already made are
// closed.
func NewKMSOutputs(dev *client.Device, outs []*client.Output, opt KMSOptions) ([]*KMS, error) {
	var fbs []*KMS
	for _, out := range outs {
		k, err := NewKMS(dev, out, opt)
		if err != nil {
			var errs []error
			for _, f := range fbs {
				errs = append(errs, f.Close())
			}
			return nil, errors.Join(append([]error{err}, errs...)...)
		}
		fbs = append(fbs, k)
	}
	return fbs, nil
}
