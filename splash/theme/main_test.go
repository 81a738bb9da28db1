package theme

import (
	"testing"

	"github.com/bootsplash/bootsplash/internal/testutil"
)

func TestMain(m *testing.M) { testutil.LeakCheckMain(m) }

// testTheme is the test theme of the splash package: a JPEG background,
// a BMP logo, eight PNG spinner frames and a font.
const testTheme = "../testdata/theme/test.toml"
