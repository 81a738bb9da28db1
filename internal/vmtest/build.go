package vmtest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
)

// RepoRoot returns the directory holding the module's go.mod, searching
// upwards from the working directory.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}

// BuildError is a Go build that failed; Output is the compiler's message.
type BuildError struct {
	Package string
	Err     error
	Output  string
}

// ErrNoTests is wrapped by the BuildError of a package without test files.
var ErrNoTests = errors.New("no test files")

// Error says what failed and why.
func (e *BuildError) Error() string {
	what := "does not build"
	if errors.Is(e.Err, ErrNoTests) {
		what = "has no test binary"
	}
	return fmt.Sprintf("%s %s: %v\n%s", e.Package, what, e.Err, strings.TrimSpace(e.Output))
}

// Unwrap returns the underlying error.
func (e *BuildError) Unwrap() error { return e.Err }

func goCmd(ctx context.Context, root string, arch Arch, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), arch.GoEnv()...)
	return cmd
}

// GoBuild builds the static amd64 program pkg ("./cmd/bootsplash") of the
// module at root into out.
func GoBuild(ctx context.Context, root, pkg, out string) error {
	return GoBuildFor(ctx, root, AMD64, pkg, out)
}

// GoBuildFor is GoBuild for the architecture arch.
func GoBuildFor(ctx context.Context, root string, arch Arch, pkg, out string) error {
	cmd := goCmd(ctx, root, arch, "build", "-o", out, pkg)
	if b, err := cmd.CombinedOutput(); err != nil {
		return &BuildError{Package: archPkg(pkg, arch), Err: err, Output: string(b)}
	}
	return nil
}

// archPkg names a package built for arch in errors.
func archPkg(pkg string, arch Arch) string {
	if arch == AMD64 {
		return pkg
	}
	return pkg + " (" + string(arch) + ")"
}

// GoTestBinary builds the static amd64 test binary of pkg ("./access") into
// out.
func GoTestBinary(ctx context.Context, root, pkg, out string) error {
	return GoTestBinaryFor(ctx, root, AMD64, pkg, out)
}

// GoTestBinaryFor is GoTestBinary for the architecture arch.
func GoTestBinaryFor(ctx context.Context, root string, arch Arch, pkg, out string) error {
	cmd := goCmd(ctx, root, arch, "test", "-c", "-o", out, pkg)
	b, err := cmd.CombinedOutput()
	if err != nil {
		return &BuildError{Package: archPkg(pkg, arch), Err: err, Output: string(b)}
	}
	if _, err := os.Stat(out); err != nil {
		return &BuildError{Package: archPkg(pkg, arch), Err: ErrNoTests, Output: string(b)}
	}
	return nil
}

// BuildGuestInit builds the amd64 guest init (internal/vmtest/guestinit)
// into dir and returns its path.
func BuildGuestInit(ctx context.Context, root, dir string) (string, error) {
	return BuildGuestInitFor(ctx, root, AMD64, dir)
}

// BuildGuestInitFor is BuildGuestInit for the architecture arch.
func BuildGuestInitFor(ctx context.Context, root string, arch Arch, dir string) (string, error) {
	out := filepath.Join(dir, "guestinit-"+string(arch))
	if arch == AMD64 {
		out = filepath.Join(dir, "guestinit")
	}
	if err := GoBuildFor(ctx, root, arch, "./internal/vmtest/guestinit", out); err != nil {
		return "", err
	}
	return out, nil
}

// PackageFiles returns the files a test binary of pkg may read relative
// to its working directory, placed under guestDir, so that the binary run
// with guestDir as its working directory finds them where `go test` would
// (it runs tests in the package's source directory): the package
// directory's files, its testdata tree whole, and the files of its other
// subdirectories except those that are packages of their own (holding .go
// files) and those the go tool ignores (names starting with "." or "_").
// Symbolic links and special files are left out.
func PackageFiles(root, pkg, guestDir string) ([]File, error) {
	src := filepath.Join(root, pkg)
	var files []File
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p == src {
				return nil
			}
			if n := d.Name(); strings.HasPrefix(n, ".") || strings.HasPrefix(n, "_") {
				return filepath.SkipDir
			}
			if inTestdata(rel) {
				return nil
			}
			if isPackage, err := hasGoFiles(p); err != nil {
				return err
			} else if isPackage {
				return filepath.SkipDir
			}
			return nil
		}
		if d.Type().IsRegular() {
			files = append(files, File{Path: path.Join(guestDir, filepath.ToSlash(rel)), HostPath: p})
		}
		return nil
	})
	return files, err
}

// inTestdata reports whether rel (relative to a package directory) is its
// testdata directory or below it.
func inTestdata(rel string) bool {
	return rel == "testdata" || strings.HasPrefix(filepath.ToSlash(rel), "testdata/")
}

func hasGoFiles(dir string) (bool, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return false, err
	}
	for _, e := range ents {
		if e.Type().IsRegular() && strings.HasSuffix(e.Name(), ".go") {
			return true, nil
		}
	}
	return false, nil
}
