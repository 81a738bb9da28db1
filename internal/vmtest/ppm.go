package vmtest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"image"
	"io"
	"os"
	"strconv"
)

// ErrBadPPM is wrapped by every error DecodePPM returns for malformed input.
var ErrBadPPM = errors.New("malformed PPM")

// maxPPMPixels bounds the image size DecodePPM accepts (64 Mpixel), so a
// corrupt header cannot make it allocate without bound.
const maxPPMPixels = 64 << 20

// DecodePPM decodes a binary PPM (P6) image, the format of QEMU's
// screendump, into an opaque RGBA image. Samples wider than 8 bits
// (maxval > 255) are scaled to 8 bits.
func DecodePPM(r io.Reader) (*image.RGBA, error) {
	br := bufio.NewReader(r)
	magic, err := ppmToken(br)
	if err != nil {
		return nil, err
	}
	if magic != "P6" {
		return nil, fmt.Errorf("%w: magic %q, want P6", ErrBadPPM, magic)
	}
	var v [3]int
	for i, what := range []string{"width", "height", "maxval"} {
		tok, err := ppmToken(br)
		if err != nil {
			return nil, err
		}
		n, err := strconv.Atoi(tok)
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("%w: %s %q", ErrBadPPM, what, tok)
		}
		v[i] = n
	}
	w, h, maxval := v[0], v[1], v[2]
	if maxval > 65535 {
		return nil, fmt.Errorf("%w: maxval %d > 65535", ErrBadPPM, maxval)
	}
	if w > maxPPMPixels || h > maxPPMPixels || w*h > maxPPMPixels {
		return nil, fmt.Errorf("%w: %dx%d is too large", ErrBadPPM, w, h)
	}
	// ppmToken consumed the single whitespace byte after maxval.
	bps := 1
	if maxval > 255 {
		bps = 2
	}
	raw := make([]byte, w*h*3*bps)
	if _, err := io.ReadFull(br, raw); err != nil {
		return nil, fmt.Errorf("%w: pixel data of %dx%d: %v", ErrBadPPM, w, h, err)
	}
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for i, o := 0, 0; i < w*h; i++ {
		for c := 0; c < 3; c++ {
			var s int
			if bps == 1 {
				s = int(raw[o])
			} else {
				s = int(raw[o])<<8 | int(raw[o+1])
			}
			o += bps
			if s > maxval {
				return nil, fmt.Errorf("%w: sample %d exceeds maxval %d", ErrBadPPM, s, maxval)
			}
			if maxval != 255 {
				s = (s*255 + maxval/2) / maxval
			}
			img.Pix[i*4+c] = uint8(s)
		}
		img.Pix[i*4+3] = 0xff
	}
	return img, nil
}

// ReadPPM decodes the PPM file name.
func ReadPPM(name string) (*image.RGBA, error) {
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	img, err := DecodePPM(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return img, nil
}

// ppmToken reads one header token, skipping whitespace and # comments, and
// consumes the single whitespace byte that ends it.
func ppmToken(br *bufio.Reader) (string, error) {
	var tok []byte
	for {
		c, err := br.ReadByte()
		if err != nil {
			if len(tok) > 0 && err == io.EOF {
				return string(tok), nil
			}
			return "", fmt.Errorf("%w: header: %v", ErrBadPPM, err)
		}
		switch {
		case c == '#' && len(tok) == 0:
			if _, err := br.ReadString('\n'); err != nil {
				return "", fmt.Errorf("%w: header comment: %v", ErrBadPPM, err)
			}
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f':
			if len(tok) > 0 {
				return string(tok), nil
			}
		default:
			if len(tok) >= 20 {
				return "", fmt.Errorf("%w: header token too long", ErrBadPPM)
			}
			tok = append(tok, c)
		}
	}
}
