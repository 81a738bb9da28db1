package client

import (
	"fmt"
	"strings"
)

// SelectOutput picks an output the way drm_client_modeset_probe does: the
// requested (else the first connected) connector, the requested-size (else
// preferred, else first) mode, a CRTC one of its encoders can drive, and
// the primary plane of that CRTC. It reads the connectors as the kernel
// last probed them, and probes them again only when that finds no output.
func (d *Device) SelectOutput(req OutputRequest) (*Output, error) {
	s, err := d.ProbeCurrent()
	if err != nil {
		return nil, err
	}
	if out, err := s.SelectOutput(req); err == nil {
		return out, nil
	}
	if s, err = d.Probe(); err != nil {
		return nil, err
	}
	out, err := s.SelectOutput(req)
	if err != nil && !d.UniversalPlanes() {
		// Without the cap the kernel hides primary planes.
		err = fmt.Errorf("%w (the kernel refused DRM_CLIENT_CAP_UNIVERSAL_PLANES, so primary planes are not listed)", err)
	}
	return out, err
}

// SelectOutput picks an output from an already probed state; see
// Device.SelectOutput.
func (s *State) SelectOutput(req OutputRequest) (*Output, error) {
	var conn *Connector
	var seen []string
	for _, c := range s.Connectors {
		seen = append(seen, c.Name+" "+c.Status.String())
		if req.Connector != "" {
			if strings.EqualFold(c.Name, req.Connector) {
				conn = c
				break
			}
			continue
		}
		if c.Status == Connected && len(c.Modes) > 0 {
			conn = c
			break
		}
	}
	switch {
	case conn == nil && req.Connector != "":
		return nil, fmt.Errorf("select output: no connector %q (have %s)", req.Connector, strings.Join(seen, ", "))
	case conn == nil:
		return nil, fmt.Errorf("select output: no connected connector with modes (have %s): %w",
			orNone(seen), ErrNoDisplay)
	case conn.Status == Disconnected:
		return nil, fmt.Errorf("select output: connector %s is disconnected: %w", conn.Name, ErrNoDisplay)
	}
	mode, err := PickMode(conn.Modes, req.Width, req.Height)
	if err != nil {
		return nil, fmt.Errorf("select output on %s: %w", conn.Name, err)
	}
	if out := s.route(conn, mode, nil); out != nil {
		return out, nil
	}
	return nil, fmt.Errorf("select output on %s: no CRTC with a primary plane reachable through encoders %v", conn.Name, conn.Encoders)
}

// SelectOutputs picks every connected connector beside the outputs busy
// already lit, each at its preferred mode, on a CRTC and a primary plane
// the others leave free, as drm_client_modeset_probe lights every display
// for fbdev: the routes are chosen as SelectOutput chooses its one. A
// connector with no free CRTC is skipped. Its error matches ErrNoDisplay
// when there is nothing more to light.
func (s *State) SelectOutputs(busy []*Output) ([]*Output, error) {
	used := map[any]bool{}
	lit := map[ConnectorID]bool{}
	for _, o := range busy {
		used[o.CRTC.ID], used[o.Plane.ID], lit[o.Connector.ID] = true, true, true
	}
	var outs []*Output
	var skipped []string
	for _, conn := range s.Connectors {
		if lit[conn.ID] || conn.Status != Connected || len(conn.Modes) == 0 {
			continue
		}
		mode, err := PickMode(conn.Modes, 0, 0)
		if err != nil {
			skipped = append(skipped, conn.Name+": "+err.Error())
			continue
		}
		if out := s.route(conn, mode, used); out != nil {
			used[out.CRTC.ID], used[out.Plane.ID] = true, true
			outs = append(outs, out)
		} else {
			skipped = append(skipped, conn.Name+": no free CRTC with a primary plane")
		}
	}
	if len(outs) == 0 {
		return nil, fmt.Errorf("select outputs: no usable connector (%v): %w", skipped, ErrNoDisplay)
	}
	return outs, nil
}

// route finds an encoder of conn, a CRTC it can drive and that CRTC's
// primary plane, none of them in used (CRTCID and PlaneID keys). It
// prefers the encoder and CRTC already driving the connector and the
// plane already on the CRTC, so a takeover from the console does not need
// a full modeset.
func (s *State) route(conn *Connector, mode Mode, used map[any]bool) *Output {
	encs := conn.Encoders
	if conn.Encoder != 0 {
		encs = append([]EncoderID{conn.Encoder}, encs...)
	}
	for _, eid := range encs {
		enc := s.encoder(eid)
		if enc == nil {
			continue
		}
		crtcs := s.CRTCs
		if cur := s.crtc(enc.CRTC); cur != nil {
			crtcs = append([]*CRTC{cur}, crtcs...)
		}
		for _, crtc := range crtcs {
			if used[crtc.ID] || enc.PossibleCRTCs&(1<<crtc.Index) == 0 {
				continue
			}
			if p := s.primaryPlane(crtc, used); p != nil {
				return &Output{Connector: conn, CRTC: crtc, Plane: p, Encoder: enc, Mode: mode}
			}
		}
	}
	return nil
}

func orNone(s []string) string {
	if len(s) == 0 {
		return "no connectors"
	}
	return strings.Join(s, ", ")
}

func (s *State) encoder(id EncoderID) *Encoder {
	for _, e := range s.Encoders {
		if e.ID == id {
			return e
		}
	}
	return nil
}

func (s *State) crtc(id CRTCID) *CRTC {
	for _, c := range s.CRTCs {
		if c.ID == id && id != 0 {
			return c
		}
	}
	return nil
}

// primaryPlane returns the primary plane not in used that can sit on
// crtc, preferring one already on it.
func (s *State) primaryPlane(crtc *CRTC, used map[any]bool) *Plane {
	var found *Plane
	for _, p := range s.Planes {
		if p.Type != PlanePrimary || used[p.ID] || p.PossibleCRTCs&(1<<crtc.Index) == 0 {
			continue
		}
		if p.CRTC == crtc.ID {
			return p
		}
		if found == nil {
			found = p
		}
	}
	return found
}
