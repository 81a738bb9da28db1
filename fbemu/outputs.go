package fbemu

import (
	"errors"

	"github.com/bootsplash/bootsplash/client"
)

// NewKMSOutputs makes one framebuffer per output (client.State.SelectOutputs
// picks them for every connected display), each at its own mode and
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
