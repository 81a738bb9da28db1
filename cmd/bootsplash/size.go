package main

import (
	"errors"
	"fmt"

	"github.com/bootsplash/bootsplash/client"
	"github.com/bootsplash/bootsplash/fbemu"
)

// parseSize reads the WxH value s of flag (as "--size") and refuses, naming
// the flag, a side over what KMS scans out (a usage error) and a size whose
// bytesPerPixel bytes for each pixel are more memory than the machine has;
// bytesPerPixel 0 checks the sides only.
func parseSize(flag, s string, bytesPerPixel int) (w, h int, err error) {
	if w, h, err = client.ParseModeSize(s); err != nil {
		return 0, 0, fmt.Errorf("%w: %s: %v", errUsage, flag, err)
	}
	err = fbemu.CheckSize(w, h, bytesPerPixel)
	var se *fbemu.SizeError
	if errors.As(err, &se) && se.Short == nil {
		return 0, 0, fmt.Errorf("%w: %s %v", errUsage, flag, err)
	}
	if err != nil {
		// "--size 8192x8192: needs ... bytes, only ... available".
		return 0, 0, fmt.Errorf("%s %w", flag, err)
	}
	return w, h, nil
}
