package splash

import (
	"context"
	"errors"
	"io"
	"os"
	"strings"
	"syscall"
)

// parseKmsg returns the text of one /dev/kmsg record
// ("PRI,SEQ,USEC,FLAGS;TEXT\n" followed by continuation lines that begin
// with a space, which are left out), or false for a record it cannot read.
func parseKmsg(rec string) (string, bool) {
	_, text, ok := strings.Cut(rec, ";")
	if !ok {
		return "", false
	}
	text, _, _ = strings.Cut(text, "\n")
	return text, true
}

// readKmsg sends the kernel's log lines from path (/dev/kmsg), from the
// oldest the kernel still holds, to lines until ctx ends.
func readKmsg(ctx context.Context, path string, lines chan<- string) error {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return err
	}
	stop := context.AfterFunc(ctx, func() { f.Close() })
	defer stop()
	defer f.Close()
	buf := make([]byte, 8192) // a record is at most about 1 KiB
	for {
		n, err := f.Read(buf)
		if errors.Is(err, syscall.EPIPE) {
			continue // records were overwritten before they were read
		}
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, os.ErrClosed) || err == io.EOF {
				return nil
			}
			return err
		}
		if text, ok := parseKmsg(string(buf[:n])); ok {
			select {
			case lines <- text:
			case <-ctx.Done():
				return nil
			}
		}
	}
}
