package main

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/bootsplash/bootsplash/internal/uapi"
)

// fragment allocates n 1 MiB buffers from the system heap (each one
// order-8 block of pages), closes every other one, says "fragmented" and
// holds the others until SIGTERM.
func fragment(n int) error {
	heap, err := os.OpenFile("/dev/dma_heap/system", os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer heap.Close()
	var fds []int
	for i := 0; i < n; i++ {
		data := uapi.DmaHeapAllocationData{Len: 1 << 20, Fd_flags: unix.O_RDWR | unix.O_CLOEXEC}
		if err := uapi.Ioctl(int(heap.Fd()), uapi.DMA_HEAP_IOCTL_ALLOC, unsafe.Pointer(&data)); err != nil {
			return fmt.Errorf("allocate 1 MiB buffer %d of %d: %w", i+1, n, err)
		}
		fds = append(fds, int(data.Fd))
	}
	held := 0
	for i, fd := range fds {
		if i%2 == 1 {
			unix.Close(fd)
		} else {
			held++
		}
	}
	fmt.Printf("fragmented: %d 1 MiB system-heap buffers allocated, %d held\n", n, held)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM)
	<-sig
	return nil
}

// dmesg prints the kernel log as /dev/kmsg has it, without waiting for
// more.
func dmesg() error {
	fd, err := unix.Open("/dev/kmsg", unix.O_RDONLY|unix.O_NONBLOCK, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	buf := make([]byte, 8192)
	for {
		n, err := unix.Read(fd, buf)
		switch {
		case errors.Is(err, unix.EAGAIN):
			return nil
		case errors.Is(err, unix.EPIPE):
			continue // overwritten while reading: go on with the next
		case err != nil:
			return err
		}
		os.Stdout.Write(buf[:n])
	}
}
