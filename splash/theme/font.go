package theme

import (
	"fmt"
	"io"

	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/opentype"
)

// fontExists checks that a font file a theme names can be opened, without
// reading it: fonts are parsed when text is first drawn.
func (t *Theme) fontExists(name string) error {
	f, err := t.openFile(name, MaxFontBytes, "font")
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return f.Close()
}

// Font returns the parsed font the theme names name ("" is the embedded
// Go font), parsing it the first time. Errors are Errors naming the key
// that names the font. The font is only read once parsed, so the
// renderers of several outputs can share it.
func (t *Theme) Font(name string) (*opentype.Font, error) {
	f, err := t.fontFile(name)
	return f, t.placedErr(name, err)
}

func (t *Theme) fontFile(name string) (*opentype.Font, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if f := t.fonts[name]; f != nil {
		return f, nil
	}
	data := goregular.TTF
	if name != "" {
		r, err := t.openFile(name, MaxFontBytes, "font")
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		data, err = io.ReadAll(r)
		r.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, pathless(err))
		}
	}
	f, err := opentype.Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: not a TrueType or OpenType font (%w)", name, err)
	}
	t.fonts[name] = f
	return f, nil
}

// FontData returns the bytes of the font file the theme names name ("" is
// the embedded Go font), for shapers that parse fonts themselves. Errors
// are Errors naming the key that names the font.
func (t *Theme) FontData(name string) ([]byte, error) {
	if name == "" {
		return goregular.TTF, nil
	}
	r, err := t.openFile(name, MaxFontBytes, "font")
	if err != nil {
		return nil, t.placedErr(name, fmt.Errorf("%s: %w", name, err))
	}
	defer r.Close()
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, t.placedErr(name, fmt.Errorf("%s: %w", name, pathless(err)))
	}
	return data, nil
}
