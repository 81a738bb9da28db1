package proto

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestPlanRoundTrip(t *testing.T) {
	p := &Plan{
		Modules:     []Module{{Name: "drm", Path: "/lib/modules/drm.ko"}, {Name: "drm_kms_helper", Path: "/lib/modules/drm_kms_helper.ko", Params: "fbdev_emulation=0"}},
		WaitPaths:   []string{"/dev/dri/card0"},
		WaitTimeout: Duration(15 * time.Second),
		Steps: []Step{
			{Name: "test access", Cmd: []string{"/bin/access.test", "-test.v"}, Env: []string{"BOOTSPLASH_REQUIRE_DEVICES=1"}, Dir: "/tmp", Timeout: Duration(2 * time.Minute)},
			{Name: "run", Cmd: []string{"/bin/bootsplash", "run"}, Background: true, WaitFor: "first frame"},
			{Name: "hotplug", Write: &WriteFile{Path: "/sys/class/drm/card0-Virtual-2/status", Data: []byte("on\x00\xff")}},
			{Name: "shot", Host: true},
			{Name: "stop", Stop: "run"},
		},
	}
	b, err := p.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte(`"2m0s"`)) {
		t.Errorf("durations are not encoded as text: %s", b)
	}
	q, err := DecodePlan(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(p, q) {
		t.Errorf("round trip changed the plan:\n got %+v\nwant %+v", q, p)
	}
}

func TestPlanValidate(t *testing.T) {
	for name, steps := range map[string][]Step{
		"no name":            {{Cmd: []string{"/bin/x"}}},
		"duplicate":          {{Name: "a", Cmd: []string{"/x"}}, {Name: "a", Cmd: []string{"/x"}}},
		"nothing to do":      {{Name: "a"}},
		"two kinds":          {{Name: "a", Cmd: []string{"/x"}, Host: true}},
		"stop unknown":       {{Name: "a", Stop: "b"}},
		"stop foreground":    {{Name: "a", Cmd: []string{"/x"}}, {Name: "b", Stop: "a"}},
		"stop twice":         {{Name: "a", Cmd: []string{"/x"}, Background: true}, {Name: "b", Stop: "a"}, {Name: "c", Stop: "a"}},
		"background nothing": {{Name: "a", Background: true, Host: true}},
		"wait unknown":       {{Name: "a", Wait: "b"}},
		"wait foreground":    {{Name: "a", Cmd: []string{"/x"}}, {Name: "b", Wait: "a"}},
		"wait after stop":    {{Name: "a", Cmd: []string{"/x"}, Background: true}, {Name: "b", Stop: "a"}, {Name: "c", Wait: "a"}},
		"wait and stop":      {{Name: "a", Cmd: []string{"/x"}, Background: true}, {Name: "b", Stop: "a", Wait: "a"}},
	} {
		p := Plan{Steps: steps}
		if _, err := p.Encode(); err == nil {
			t.Errorf("%s: plan encoded, want an error", name)
		}
	}
	ok := Plan{Steps: []Step{{Name: "a", Cmd: []string{"/x"}, Background: true}, {Name: "b", Wait: "a"}}}
	if _, err := ok.Encode(); err != nil {
		t.Errorf("a wait for a background step: %v", err)
	}
	if _, err := DecodePlan([]byte(`{"steps":[{"name":"a","cmd":["/x"],"timeout":5}]}`)); err == nil {
		t.Error("a numeric timeout was accepted")
	}
	if _, err := DecodePlan([]byte(`{"steps":[{"name":"a","cmd":["/x"],"timeout":"soon"}]}`)); err == nil {
		t.Error("an unparsable timeout was accepted")
	}
}

func TestFramingRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	enc := NewEncoder(&buf)
	sent := []Message{
		{Kind: KindReady, Text: "6.12.107+deb12-amd64", Millis: 350},
		{Kind: KindOutput, Step: "test access", Data: []byte("=== RUN TestX\n\x16binary\x00\xff\r\n")},
		{Kind: KindExit, Step: "test access", Code: -1, Text: "killed by signal terminated"},
		{Kind: KindDone},
	}
	var wg sync.WaitGroup
	for _, m := range sent {
		wg.Add(1)
		go func(m Message) { defer wg.Done(); enc.Send(m) }(m)
	}
	wg.Wait()
	// Other text on the line (a kernel message, a half line) is noise.
	stream := "[    1.23] random: crng init done\n" + buf.String() + "garbage without newline"
	dec := NewDecoder(strings.NewReader(stream))
	var noise []string
	dec.Noise = func(l string) { noise = append(noise, l) }
	var got []Message
	for {
		m, err := dec.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, m)
	}
	if len(got) != len(sent) {
		t.Fatalf("decoded %d messages, want %d (concurrent sends must not interleave)", len(got), len(sent))
	}
	for _, w := range sent {
		found := false
		for _, g := range got {
			found = found || reflect.DeepEqual(g, w)
		}
		if !found {
			t.Errorf("message %+v lost or changed", w)
		}
	}
	if len(noise) != 2 || !strings.Contains(noise[0], "crng") || noise[1] != "garbage without newline" {
		t.Errorf("noise = %q", noise)
	}
	if bytes.Count(buf.Bytes(), []byte("\n")) != len(sent) {
		t.Errorf("each message must be exactly one line:\n%s", buf.Bytes())
	}
}

func TestDecoderRejectsCorruptFrames(t *testing.T) {
	for _, in := range []string{
		Magic + "{not json\n",
		Magic + `{"step":"x"}` + "\n",
	} {
		if m, err := NewDecoder(strings.NewReader(in)).Next(); err == nil {
			t.Errorf("%q decoded as %+v, want an error", in, m)
		}
	}
	// A message after kernel text on the same line is still found.
	m, err := NewDecoder(strings.NewReader("[ 2.0] oops" + Magic + `{"kind":"done"}` + "\r\n")).Next()
	if err != nil || m.Kind != KindDone {
		t.Errorf("got %+v, %v; want the done message", m, err)
	}
}
