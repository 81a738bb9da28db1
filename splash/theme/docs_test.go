package theme

import (
	"os"
	"reflect"
	"strings"
	"testing"
)

// TestDocsNameEveryKey: docs/themes.md describes every key a theme file
// takes, so a key added to the model without its line in the reference
// fails here. A section's own keys appear as `section.key`, the placement
// keys every element shares as `key` in the placement table.
func TestDocsNameEveryKey(t *testing.T) {
	doc, err := os.ReadFile("../../docs/themes.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(doc)
	place := text[strings.Index(text, "### Placement"):]
	tag := func(f reflect.StructField) string { name, _, _ := strings.Cut(f.Tag.Get("toml"), ","); return name }
	n := 0
	st := reflect.TypeFor[Sections]()
	for i := range st.NumField() {
		sec := st.Field(i)
		et := sec.Type.Elem()
		for j := range et.NumField() {
			f := et.Field(j)
			if f.Anonymous {
				for k := range f.Type.NumField() {
					if key := "| `" + tag(f.Type.Field(k)) + "` |"; !strings.Contains(place, key) {
						t.Errorf("docs/themes.md: the placement table lacks %s", key)
					}
				}
				continue
			}
			n++
			if key := "`" + tag(sec) + "." + tag(f) + "`"; !strings.Contains(text, key) {
				t.Errorf("docs/themes.md does not describe %s", key)
			}
		}
	}
	if n < 30 {
		t.Errorf("%d keys found in the model: the walk is wrong", n)
	}
}
