package vmtest

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/draw"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bootsplash/bootsplash/internal/testutil"
	"github.com/bootsplash/bootsplash/internal/vmtest/proto"
)

// The themed end-to-end case: `bootsplash run` with the test theme (a
// background image, a logo, a spinner, a bar, a message line in a TTF
// font), driven over each control front end in turn; after each, the
// screen must become exactly what `bootsplash render` draws for the state
// the requests asked for.
const (
	themedStep  = "themed"
	themeDir    = "splash/testdata/theme" // in the repository
	themeGuest  = "/theme"
	themeFile   = "test.toml"
	plymouthBin = "/usr/bin/plymouth"
	// How long a requested change may take to reach the screen, TCG and
	// virtio-gpu's asynchronous upload included.
	themedFrameTimeout = 10 * time.Second
	// How long the initial check waits for the spinner to move on.
	themedAnimTimeout = 5 * time.Second
	themedPollGap     = 40 * time.Millisecond
)

// themedDevices are the devices the themed case boots with: the heap and
// PRIME path, and dumb buffers with required damage.
func themedDevices(kernel string, d Device) bool {
	return kernel == Kernel612 && (d == Cirrus || d == Virtio)
}

// themedState is what the splash must show after a check's requests.
type themedState struct {
	progress float64 // percent, 0 to 100, as ctl progress and render take it
	message  string
}

// themedCheck is one screen check: the front end's requests (plan steps)
// come before it, and the screen must then show state.
type themedCheck struct {
	name  string // the subtest and the front end
	state themedState
	// request is the plan step the latency counts from: the last request
	// of the front end (for the initial frame, the start of run).
	request string
	host    string // the host step that checks the screen
}

// themedResult is what a check saw.
type themedResult struct {
	ran     bool
	matched bool
	frame   int // the spinner frame the screen matched
	polls   int
	// The frame appeared after the request between min and max (guest
	// clock): the last screendump without it and the first with it.
	min, max time.Duration
	// frames are the spinner frames seen matching, in order (initial
	// check: until the spinner moved on).
	frames []int
	// On a mismatch: the last screen, the closest rendered frame, how
	// many pixels differ and the first of them.
	screen  *image.RGBA
	best    int
	diff    int
	first   []string
	err     error
	elapsed time.Duration
}

// themedRun is the themed case of one boot: the plan steps it adds, the
// host's checks and what they saw.
type themedRun struct {
	a         *artefacts
	d         Device
	out       string
	theme     string // host path of the theme file
	plymouth  bool   // the plymouth client is in the guest
	checks    []themedCheck
	results   map[string]*themedResult
	period    int                      // spinner frames before the animation repeats
	frames    map[string][]*image.RGBA // per check, frame i of the spinner
	renderErr error
	size      image.Point
}

// addThemed adds the themed case to a boot: the theme's files under
// /theme, the plan steps and the host checks. plymouth says whether the
// plymouth client was shipped (at /usr/bin/plymouth).
func addThemed(t *testing.T, a *artefacts, cfg *Config, out string, plymouth bool) *themedRun {
	t.Helper()
	r := &themedRun{a: a, d: cfg.Device, out: filepath.Join(out, "themed"), theme: filepath.Join(a.root, themeDir, themeFile),
		plymouth: plymouth, results: map[string]*themedResult{}}
	ents, err := os.ReadDir(filepath.Join(a.root, themeDir))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if e.Type().IsRegular() {
			cfg.Files = append(cfg.Files, File{Path: themeGuest + "/" + e.Name(), HostPath: filepath.Join(a.root, themeDir, e.Name())})
		}
	}
	bs := "/bin/bootsplash"
	step := func(s proto.Step) { cfg.Plan.Steps = append(cfg.Plan.Steps, s) }
	cmd := func(name string, args ...string) {
		step(proto.Step{Name: name, Cmd: args, Timeout: proto.Duration(30 * time.Second)})
	}
	check := func(c themedCheck) {
		c.host = "themed " + c.name + " screen"
		r.checks = append(r.checks, c)
		r.results[c.name] = &themedResult{}
		step(proto.Step{Name: c.host, Host: true, Timeout: proto.Duration(2 * time.Minute)})
		cfg.Host[c.host] = func(ctx context.Context, m *Machine) error { return r.hostCheck(ctx, m, c) }
	}

	// The theme's first frame drawn ahead, in the guest, as the
	// initramfs hook draws it: run copies it to the screen before it
	// parses the theme, and the initial check holds it to render.
	cmd("themed prerender", bs, "prerender", "--theme", themeGuest+"/"+themeFile, "--size", "1024x768,1280x800")
	step(proto.Step{Name: themedStep, Cmd: []string{bs, "run", "--theme", themeGuest + "/" + themeFile, "-v"},
		Background: true, WaitFor: "first frame", Timeout: proto.Duration(60 * time.Second)})
	check(themedCheck{name: "initial", request: themedStep})

	cmd("themed ctl progress", bs, "ctl", "progress", "40")
	cmd("themed ctl message", bs, "ctl", "message", "Checking file systems")
	check(themedCheck{name: "native", state: themedState{40, "Checking file systems"}, request: "themed ctl message"})

	step(proto.Step{Name: "themed psplash write", Write: &proto.WriteFile{Path: "/run/psplash_fifo", Data: []byte("PROGRESS 75\x00MSG Starting services\x00")}})
	check(themedCheck{name: "psplash", state: themedState{75, "Starting services"}, request: "themed psplash write"})

	if plymouth {
		cmd("themed plymouth system-update", plymouthBin, "system-update", "--progress=90")
		cmd("themed plymouth display-message", plymouthBin, "display-message", "--text=Almost there")
		check(themedCheck{name: "plymouth", state: themedState{90, "Almost there"}, request: "themed plymouth display-message"})
		cmd("themed plymouth quit", plymouthBin, "quit")
		// run must exit 0 by itself; the wait ends it only if it does not.
		step(proto.Step{Name: "themed exit", Wait: themedStep, Timeout: proto.Duration(20 * time.Second)})
	} else {
		step(proto.Step{Name: "themed stop", Stop: themedStep})
	}
	return r
}

func formatProgress(p float64) string { return strconv.FormatFloat(p, 'g', -1, 64) }

// render draws one state's spinner frame with the host's bootsplash.
func (r *themedRun) render(ctx context.Context, st themedState, frame int, out string) (*image.RGBA, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	args := []string{"render", "--size", fmt.Sprintf("%dx%d", r.size.X, r.size.Y), "--theme", r.theme,
		"--progress", formatProgress(st.progress), "--message", st.message, "--frame", strconv.Itoa(frame), "--out", out}
	if b, err := exec.CommandContext(ctx, r.a.bootsplash, args...).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("bootsplash %s: %v\n%s", strings.Join(args, " "), err, b)
	}
	img, err := readPNG(out)
	if err != nil {
		return nil, err
	}
	rgba := image.NewRGBA(img.Bounds())
	draw.Draw(rgba, rgba.Bounds(), img, img.Bounds().Min, draw.Src)
	return rgba, nil
}

// renderAll renders every check's state at size, one image per spinner
// frame. The spinner's period is found on the initial state: the first
// frame that equals frame 0 again.
func (r *themedRun) renderAll(ctx context.Context, size image.Point) error {
	r.size = size
	dir := filepath.Join(r.out, "render")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	name := func(c themedCheck, i int) string { return filepath.Join(dir, fmt.Sprintf("%s-frame%d.png", c.name, i)) }
	r.frames = map[string][]*image.RGBA{}
	first := r.checks[0]
	for i := 0; ; i++ {
		if i == 64 {
			return fmt.Errorf("the spinner did not repeat within 64 frames")
		}
		img, err := r.render(ctx, first.state, i, name(first, i))
		if err != nil {
			return err
		}
		if i > 0 && bytes.Equal(img.Pix, r.frames[first.name][0].Pix) {
			r.period = i
			os.Remove(name(first, i))
			break
		}
		r.frames[first.name] = append(r.frames[first.name], img)
	}
	// The other states, two renders at a time.
	var mu sync.Mutex
	var errs []error
	sem := make(chan struct{}, 2)
	var wg sync.WaitGroup
	for _, c := range r.checks[1:] {
		r.frames[c.name] = make([]*image.RGBA, r.period)
		for i := range r.period {
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer func() { <-sem; wg.Done() }()
				img, err := r.render(ctx, c.state, i, name(c, i))
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					errs = append(errs, err)
				}
				r.frames[c.name][i] = img
			}()
		}
	}
	wg.Wait()
	if len(errs) > 0 {
		return errs[0]
	}
	return nil
}

// match returns the spinner frame the screen equals, or -1.
func match(screen *image.RGBA, frames []*image.RGBA) int {
	for i, f := range frames {
		if f.Rect == screen.Rect && bytes.Equal(f.Pix, screen.Pix) {
			return i
		}
	}
	return -1
}

// hostCheck polls the screen until it equals one of the check's rendered
// frames (any spinner frame: the spinner keeps turning), or gives up
// after themedFrameTimeout. The initial check also renders every state
// (the screen's size is known from then on) and waits for the spinner to
// move to another frame. A mismatch is recorded, not returned: the plan
// goes on to the other front ends.
func (r *themedRun) hostCheck(ctx context.Context, m *Machine, c themedCheck) error {
	res := r.results[c.name]
	res.ran = true
	start := time.Now()
	defer func() { res.elapsed = time.Since(start) }()
	shot := func() (*image.RGBA, time.Time, time.Time, error) {
		before := time.Now()
		img, err := m.Screendump("themed-"+c.name, -1)
		return img, before, time.Now(), err
	}
	if r.frames == nil {
		img, _, _, err := shot()
		if err != nil {
			res.err = err
			return err
		}
		if err := r.renderAll(ctx, img.Bounds().Size()); err != nil {
			r.renderErr = err
			res.err = err
			return nil // reported by the check; the rest of the plan still runs
		}
	}
	if r.renderErr != nil {
		res.err = fmt.Errorf("no rendered frames: %w", r.renderErr)
		return nil
	}
	frames := r.frames[c.name]
	req := m.Result(c.request).Start
	pollStart := time.Now()
	lastMiss := req // the last screendump without the frame; none yet
	var img *image.RGBA
	for {
		var before, after time.Time
		var err error
		img, before, after, err = shot()
		if err != nil {
			res.err = err
			return err
		}
		res.polls++
		if i := match(img, frames); i >= 0 {
			res.matched, res.frame = true, i
			res.frames = []int{i}
			res.min, res.max = lastMiss-req, m.GuestUptime(after)-req
			break
		}
		lastMiss = m.GuestUptime(before)
		if time.Since(pollStart) > themedFrameTimeout {
			break
		}
		time.Sleep(themedPollGap)
	}
	if !res.matched {
		res.screen = img
		res.diff = -1
		for i, f := range frames {
			if n, first := comparePixels(img, f); res.diff < 0 || n < res.diff {
				res.best, res.diff, res.first = i, n, first
			}
		}
		return nil
	}
	if c.name == "initial" {
		// The spinner turns: the screen moves on to another frame, and
		// that one too is exactly what render draws.
		animStart := time.Now()
		for time.Since(animStart) < themedAnimTimeout && len(res.frames) < 2 {
			time.Sleep(themedPollGap)
			img, _, _, err := shot()
			if err != nil {
				res.err = err
				return err
			}
			res.polls++
			if i := match(img, frames); i >= 0 && i != res.frames[len(res.frames)-1] {
				res.frames = append(res.frames, i)
			}
		}
	}
	return nil
}

// report turns the themed case's boot into subtests of the e2e test.
func (r *themedRun) report(t *testing.T, rep *Report, wantBuffer []string) {
	res := rep.Step(themedStep)
	t.Logf("bootsplash run --theme output:\n%s", res.Output)
	if !res.Waited {
		t.Fatalf("bootsplash run --theme never logged \"first frame\" (exit %d %s)", res.Code, res.Note)
	}
	if line, ok := logLine(res.Output, "first frame"); ok {
		t.Logf("time to first frame: %s", line)
	}
	if pr := rep.Step("themed prerender"); pr.Code != 0 {
		t.Errorf("bootsplash prerender --theme in the guest: exit %d %s\n%s", pr.Code, pr.Note, pr.Output)
	}
	if line, ok := logLine(res.Output, "pre-rendered frame up"); ok {
		t.Logf("the theme's pre-rendered frame: %s", line)
	} else {
		t.Errorf("bootsplash run --theme did not put up the theme's pre-rendered frame")
	}
	buf, ok := logLine(res.Output, "buffer: ")
	if !ok {
		t.Errorf("bootsplash run logged no \"buffer: \" line")
	}
	for _, w := range wantBuffer {
		if !strings.Contains(buf, w) {
			t.Errorf("buffer path %q does not contain %q", buf, w)
		}
	}
	if t.Failed() {
		return
	}
	for _, c := range r.checks {
		t.Run(c.name, func(t *testing.T) {
			if c.name == "plymouth" {
				testutil.NeedCommand(t, "plymouth")
			}
			r.reportCheck(t, rep, c, res.Output)
		})
	}
	if !r.plymouth {
		t.Run("plymouth", func(t *testing.T) {
			testutil.NeedCommand(t, "plymouth")
			t.Fatalf("the plymouth client is installed on the host but was not shipped to the guest")
		})
		return
	}
	t.Run("quit", func(t *testing.T) {
		if q := rep.Step("themed plymouth quit"); !q.OK() {
			t.Errorf("plymouth quit: exit %d %s\n%s", q.Code, q.Note, q.Output)
		}
		if !res.Exited {
			t.Fatalf("bootsplash run did not exit")
		}
		if res.Code != 0 || res.Note != "" {
			t.Errorf("bootsplash run after plymouth quit: exit %d (%s), want exit 0 by itself", res.Code, res.Note)
		}
		if _, ok := logLine(res.Output, "bootsplash: quit"); !ok {
			t.Errorf("bootsplash run did not log the quit request")
		}
		if w := rep.Step("themed exit"); w.OK() {
			t.Logf("bootsplash run exited %v after the quit request started", res.Start+res.Duration-rep.Step("themed plymouth quit").Start)
		}
	})
}

// requestSteps are the plan steps of each front end's requests.
var requestSteps = map[string][]string{
	"native":   {"themed ctl progress", "themed ctl message"},
	"psplash":  {"themed psplash write"},
	"plymouth": {"themed plymouth system-update", "themed plymouth display-message"},
}

var frontendSource = map[string]string{"native": "native", "psplash": "psplash", "plymouth": "plymouth"}

func (r *themedRun) reportCheck(t *testing.T, rep *Report, c themedCheck, runOutput []byte) {
	for _, s := range requestSteps[c.name] {
		q := rep.Step(s)
		if !q.OK() {
			t.Errorf("%s: exit %d %s\n%s", s, q.Code, q.Note, q.Output)
		} else {
			t.Logf("%s: took %v in the guest", s, q.Duration)
		}
	}
	if src, ok := frontendSource[c.name]; ok {
		if line, ok := logLine(runOutput, "source="+src); ok {
			t.Logf("%s", line)
		} else {
			t.Errorf("bootsplash run logged no request from source=%s", src)
		}
	}
	res := r.results[c.name]
	if !res.ran {
		t.Fatalf("the screen check never ran (the boot ended before it)")
	}
	if res.err != nil {
		t.Fatalf("screen check: %v", res.err)
	}
	want := fmt.Sprintf("render --size %dx%d --theme %s --progress %s --message %q", r.size.X, r.size.Y, filepath.Join(themeDir, themeFile), formatProgress(c.state.progress), c.state.message)
	if !res.matched {
		dir := filepath.Join(r.out, c.name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		screenPNG, renderPNG := filepath.Join(dir, "screen.png"), filepath.Join(dir, fmt.Sprintf("render-frame%d.png", res.best))
		if err := writePNG(screenPNG, res.screen); err != nil {
			t.Fatal(err)
		}
		if err := writePNG(renderPNG, r.frames[c.name][res.best]); err != nil {
			t.Fatal(err)
		}
		t.Errorf("after %d screendumps over %v the screen is not `bootsplash %s` for any of the %d spinner frames; closest, frame %d, differs in %d pixels; first: %s\n(screen: %s, render: %s)",
			res.polls, res.elapsed.Round(time.Millisecond), want, r.period, res.best, res.diff, strings.Join(res.first, "; "), screenPNG, renderPNG)
		return
	}
	t.Logf("screen == bootsplash %s --frame %d (of %d) after %d screendumps", want, res.frame, r.period, res.polls)
	if c.name == "initial" {
		if len(res.frames) < 2 {
			t.Errorf("the spinner stayed on frame %d for %v (theme: 12 fps)", res.frame, themedAnimTimeout)
		} else {
			t.Logf("the spinner turned: frames %v, each exactly as rendered", res.frames)
		}
		return
	}
	how := "a write by the guest init"
	if c.name != "psplash" {
		how = "the client's start included"
	}
	if res.polls == 1 {
		// The request steps ran before the check: the frame was there
		// by the first screendump.
		t.Logf("%s: update on screen at most %v after its last request (%s, %s) started (the first screendump showed it; guest clock)",
			c.name, res.max.Round(time.Millisecond), c.request, how)
	} else {
		t.Logf("%s: update on screen between %v and %v after its last request (%s, %s) started (guest clock; a screendump every ~%v)",
			c.name, res.min.Round(time.Millisecond), res.max.Round(time.Millisecond), c.request, how, themedPollGap)
	}
}
