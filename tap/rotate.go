package tap

import (
	"errors"
	"fmt"
	"os"
)

// rotating is NewFile's writer: an append-only file renamed away when the
// next line would make it pass max. Its caller serialises the calls.
type rotating struct {
	path string
	max  int64
	keep int
	f    *os.File
	size int64
}

func openRotating(path string, max int64, keep int) (*rotating, error) {
	r := &rotating{path: path, max: max, keep: keep}
	if err := r.open(); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *rotating) open() error {
	f, err := os.OpenFile(r.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("tap: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("tap: %w", err)
	}
	r.f, r.size = f, st.Size()
	return nil
}

// Write writes p whole to the current file, rotating first when p would
// make a non-empty file pass max.
func (r *rotating) Write(p []byte) (int, error) {
	if r.f == nil {
		return 0, errors.New("tap: the file is closed")
	}
	if r.size > 0 && r.size+int64(len(p)) > r.max {
		if err := r.rotate(); err != nil {
			return 0, err
		}
	}
	n, err := r.f.Write(p)
	r.size += int64(n)
	return n, err
}

func (r *rotating) rotate() error {
	if err := r.f.Close(); err != nil {
		return fmt.Errorf("tap: %w", err)
	}
	r.f = nil
	if r.keep == 0 {
		if err := os.Remove(r.path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("tap: %w", err)
		}
		return r.open()
	}
	name := func(i int) string { return fmt.Sprintf("%s.%d", r.path, i) }
	if err := os.Remove(name(r.keep)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("tap: %w", err)
	}
	for i := r.keep - 1; i >= 1; i-- {
		if err := os.Rename(name(i), name(i+1)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("tap: %w", err)
		}
	}
	if err := os.Rename(r.path, name(1)); err != nil {
		return fmt.Errorf("tap: %w", err)
	}
	return r.open()
}

func (r *rotating) close() error {
	if r.f == nil {
		return nil
	}
	err := r.f.Close()
	r.f = nil
	return err
}
