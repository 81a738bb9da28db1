package splash

import (
	"context"
	"image"
	"log/slog"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/bootsplash/bootsplash/fbemu"
	"github.com/bootsplash/bootsplash/internal/testutil"
	"github.com/bootsplash/bootsplash/splash/theme"
)

// ttffLine is what Run logs once the first frame is up.
var ttffLine = regexp.MustCompile(`first frame after ([0-9.]+)ms`)

// nonLatinMessage needs the shaper, the system's fonts and fonts beside
// the theme's: Chinese, Arabic and an emoji.
const nonLatinMessage = "启动 مرحبا 🚀"

// runFirstFrame runs the splash on the emulated display with msg in its
// first State, until its first frame is up and then until settled says
// the frame on screen is final, and returns the time to first frame Run
// logged, the file the display writes and Run's log.
func runFirstFrame(tb testing.TB, size image.Point, msg string, settled func(out string) bool) (ttff time.Duration, out, log string) {
	tb.Helper()
	out = filepath.Join(tb.TempDir(), "run.png")
	var logs testutil.SyncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Config{Backend: BackendEmu, EmuSize: size, Out: out, Initial: State{Message: msg},
			Log: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	}()
	deadline := time.Now().Add(20 * time.Second)
	for {
		if m := ttffLine.FindStringSubmatch(logs.String()); m != nil {
			ms, _ := strconv.ParseFloat(m[1], 64)
			ttff = time.Duration(ms * float64(time.Millisecond))
			if settled == nil || settled(out) {
				break
			}
		}
		if time.Now().After(deadline) {
			cancel()
			<-done
			tb.Fatalf("no settled frame after 20s; the log:\n%s", logs.String())
		}
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		tb.Fatal(err)
	}
	return ttff, out, logs.String()
}

// shapedLater is what Show logs after the frame with the text it left
// out of a first frame.
var shapedLater = regexp.MustCompile(`text that needs shaping drawn after the frame without it" ms=([0-9.]+)`)

// BenchmarkTimeToFirstFrame runs the splash on the emulated display with
// no message, a Latin message and a message in Chinese, Arabic and an
// emoji in its first State, in turn, and reports the median time to first
// frame of each as Run logs it ("first frame after"), the non-Latin's
// over the Latin's ("nonlatin/latin"), and when the non-Latin message
// itself was on screen ("ms-nonlatin-text": the frame after the first).
func BenchmarkTimeToFirstFrame(b *testing.B) {
	size := image.Pt(1280, 720)
	var none, latin, other, text []time.Duration
	for i := 0; i < b.N; i++ {
		d, _, _ := runFirstFrame(b, size, "", nil)
		none = append(none, d)
		d, _, _ = runFirstFrame(b, size, "Checking file systems…", nil)
		latin = append(latin, d)
		d, _, log := runFirstFrame(b, size, nonLatinMessage, nil)
		other = append(other, d)
		if m := shapedLater.FindStringSubmatch(log); m != nil {
			ms, _ := strconv.ParseFloat(m[1], 64)
			d += time.Duration(ms * float64(time.Millisecond))
		}
		text = append(text, d)
	}
	median := func(ds []time.Duration) float64 {
		slices.Sort(ds)
		return float64(ds[len(ds)/2]) / float64(time.Millisecond)
	}
	b.ReportMetric(median(none), "ms-none")
	b.ReportMetric(median(latin), "ms-latin")
	b.ReportMetric(median(other), "ms-nonlatin")
	b.ReportMetric(median(other)/median(latin), "nonlatin/latin")
	b.ReportMetric(median(text), "ms-nonlatin-text")
}

// TestFirstFrameWithoutShaping: a first frame whose State holds text
// that needs shaping goes up without it, having made no shaper (so no
// font was scanned, parsed or shaped for it), with the rest of the theme
// drawn; the frame after it, damage only, then shows exactly what a
// full paint of the State shows. Latin text in the theme's font stays
// in the first frame.
func TestFirstFrameWithoutShaping(t *testing.T) {
	th, err := theme.Default()
	if err != nil {
		t.Fatal(err)
	}
	const w, h = 640, 480
	st := State{Progress: 0.3, Message: nonLatinMessage, Status: "Checking file systems…"}
	r := NewRenderer(th, 1)
	s := fbemu.NewSurface(w, h, fbemu.XRGB8888)
	light, cold := r.withoutColdText(s, st)
	if !cold || light.Message != "" || light.Status != st.Status || light.Progress != st.Progress {
		t.Fatalf("first frame's State %+v (cold %v): want the State without its message only", light, cold)
	}
	if err := r.Paint(s, light); err != nil {
		t.Fatal(err)
	}
	if len(r.shapers) != 0 {
		t.Errorf("the first frame made %d shapers", len(r.shapers))
	}
	if err := r.Update(s, light, st); err != nil {
		t.Fatal(err)
	}
	if len(r.shapers) == 0 {
		t.Error("the second frame drew the message without shaping it")
	}
	full := fbemu.NewSurface(w, h, fbemu.XRGB8888)
	if err := NewRenderer(th, 1).Paint(full, st); err != nil {
		t.Fatal(err)
	}
	if n := testutil.DifferingPixels(s, full); n != 0 {
		t.Errorf("the two frames differ from one full paint in %d pixels", n)
	}
	// Once the renderer has its shaper, nothing more is left out.
	if _, cold := r.withoutColdText(s, st); cold {
		t.Error("text left out of a full frame once the shaper is made")
	}
	if _, cold := NewRenderer(th, 1).withoutColdText(s, State{Message: "Checking file systems…"}); cold {
		t.Error("Latin text left out of the first frame")
	}
	// A prompt: in English it stays; in Arabic (its default text from
	// the catalogue) it comes with the second frame.
	ask := State{Prompt: Prompt{Active: true, Password: true, Retry: true}}
	if light, cold := NewRenderer(th, 1).withoutColdText(s, ask); cold || light != ask {
		t.Errorf("an English prompt left out of the first frame: %+v", light)
	}
	ar := NewRenderer(th, 1)
	ar.SetLocale("ar")
	if light, cold := ar.withoutColdText(s, ask); !cold || light.Prompt.Active {
		t.Errorf("an Arabic prompt drawn in the first frame: %+v", light)
	}
}

// TestRunNonLatinFirstFrame: Run with non-Latin text in its first State
// logs its first frame, then draws the text in the frame after it, and
// the screen settles on exactly what RenderFrame draws for that State.
func TestRunNonLatinFirstFrame(t *testing.T) {
	size := image.Pt(320, 200)
	want := filepath.Join(t.TempDir(), "want.png")
	if err := RenderFrame(want, FrameOptions{Width: size.X, Height: size.Y, State: State{Message: nonLatinMessage}}); err != nil {
		t.Fatal(err)
	}
	wantImg := readPNG(t, want)
	_, _, log := runFirstFrame(t, size, nonLatinMessage, func(out string) bool {
		img, err := readPNGFile(out)
		return err == nil && testutil.DifferingPixels(img, wantImg) == 0
	})
	if !shapedLater.MatchString(log) {
		t.Errorf("no frame after the first drew the text; the log:\n%s", log)
	}
}
