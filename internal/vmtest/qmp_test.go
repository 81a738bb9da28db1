package vmtest

import (
	"bufio"
	"encoding/json"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fakeQMP serves one QMP connection on a unix socket: it greets, then
// answers each request with reply(request), recording the requests.
func fakeQMP(t *testing.T, reply func(req map[string]any) []string) (string, <-chan map[string]any) {
	t.Helper()
	dir, err := os.MkdirTemp("", "qmp")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	sock := filepath.Join(dir, "s")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	reqs := make(chan map[string]any, 16)
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		c.Write([]byte(`{"QMP": {"version": {"qemu": {"major": 7}}, "capabilities": []}}` + "\n"))
		r := bufio.NewReader(c)
		for {
			line, err := r.ReadBytes('\n')
			if err != nil {
				return
			}
			var req map[string]any
			json.Unmarshal(line, &req)
			reqs <- req
			for _, out := range reply(req) {
				c.Write([]byte(out + "\n"))
			}
		}
	}()
	return sock, reqs
}

func TestQMP(t *testing.T) {
	sock, reqs := fakeQMP(t, func(req map[string]any) []string {
		switch req["execute"] {
		case "qmp_capabilities":
			return []string{`{"return": {}}`}
		case "screendump":
			// An event may come before the reply.
			return []string{`{"event": "RESET", "data": {}}`, `{"return": {}}`}
		case "device_del":
			return []string{`{"error": {"class": "DeviceNotFound", "desc": "Device 'gone' not found"}}`}
		}
		return []string{`{"return": {}}`}
	})
	q, err := DialQMP(sock, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	if r := <-reqs; r["execute"] != "qmp_capabilities" {
		t.Fatalf("first command %v, want qmp_capabilities", r)
	}
	if err := q.Screendump("/tmp/x.ppm", DisplayID, 1); err != nil {
		t.Fatal(err)
	}
	r := <-reqs
	args, _ := r["arguments"].(map[string]any)
	if r["execute"] != "screendump" || args["filename"] != "/tmp/x.ppm" || args["device"] != DisplayID || args["head"] != 1.0 {
		t.Errorf("screendump sent %v", r)
	}
	if len(q.Events) != 1 || !strings.Contains(string(q.Events[0]), "RESET") {
		t.Errorf("events = %s", q.Events)
	}
	err = q.DeviceDel("gone")
	var qe *QMPError
	if !errors.As(err, &qe) || qe.Class != "DeviceNotFound" || !strings.Contains(err.Error(), "device_del") {
		t.Errorf("device_del error = %v", err)
	}
	<-reqs
	if err := q.DeviceAdd("virtio-gpu-pci", "gpu1", map[string]any{"max_outputs": 2}); err != nil {
		t.Fatal(err)
	}
	r = <-reqs
	args, _ = r["arguments"].(map[string]any)
	if args["driver"] != "virtio-gpu-pci" || args["id"] != "gpu1" || args["max_outputs"] != 2.0 {
		t.Errorf("device_add sent %v", r)
	}
	if err := q.Screendump("/tmp/y.ppm", "", -1); err != nil {
		t.Fatal(err)
	}
	r = <-reqs
	if args, _ := r["arguments"].(map[string]any); len(args) != 1 {
		t.Errorf("default screendump sent %v, want only the filename", r)
	}
}

func TestQMPTimesOut(t *testing.T) {
	sock, _ := fakeQMP(t, func(req map[string]any) []string {
		if req["execute"] == "qmp_capabilities" {
			return []string{`{"return": {}}`}
		}
		return nil // never answers
	})
	q, err := DialQMP(sock, 200*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	start := time.Now()
	if err := q.Quit(); err == nil {
		t.Fatal("a command without reply succeeded")
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("the timeout took %v", d)
	}
}

func TestFetchKernelNamesPackage(t *testing.T) {
	if _, err := exec.LookPath("apt-get"); err != nil {
		t.Skip("no apt-get here")
	}
	const pkg = "linux-image-0.0.0-bootsplash-nonexistent-unsigned"
	_, err := FetchKernel(t.Context(), t.TempDir(), pkg)
	var fe *FetchError
	if !errors.As(err, &fe) {
		t.Fatalf("err = %v, want a FetchError", err)
	}
	if !strings.Contains(err.Error(), pkg) || !strings.Contains(err.Error(), "apt-get download "+pkg) {
		t.Errorf("the error does not name the package and the command:\n%v", err)
	}
}
