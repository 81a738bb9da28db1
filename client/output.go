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
	// Prefer the encoder and CRTC already driving the connector, so a
	// takeover from the console does not need a full modeset.
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
			if enc.PossibleCRTCs&(1<<crtc.Index) == 0 {
				continue
			}
			if p := s.primaryPlane(crtc); p != nil {
				return &Output{Connector: conn, CRTC: crtc, Plane: p, Encoder: enc, Mode: mode}, nil
			}
		}
	}
	return nil, fmt.Errorf("select output on %s: no CRTC with a primary plane reachable through encoders %v", conn.Name, conn.Encoders)
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

// primaryPlane returns the primary plane that can sit on crtc, preferring
// one already on it.
func (s *State) primaryPlane(crtc *CRTC) *Plane {
	var found *Plane
	for _, p := range s.Planes {
		if p.Type != PlanePrimary || p.PossibleCRTCs&(1<<crtc.Index) == 0 {
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
