package check

import (
	"errors"
	"strings"
	"testing"

	"github.com/botwire/botwire/internal/golden"
)

var errInvalid = errors.New("invalid")

func TestPaths(t *testing.T) {
	v := New("pkg", errInvalid)
	v.Required("caseID", "")
	v.EnterIndex("messages", 2)
	v.Enter("whatsappba")
	v.EnterIndex("buttons", 0)
	v.MaxLen("title", "ééé", 2)
	v.Leave()
	v.Add("", "whole element")
	v.Leave()
	v.Leave()
	v.Range("lat", 91, -90, 90)
	err := v.Err()
	for _, want := range []string{
		"pkg: caseID: required",
		"pkg: messages[2].whatsappba.buttons[0].title: at most 2 characters, got 3",
		"pkg: messages[2].whatsappba: whole element",
		"pkg: lat: must be between -90 and 90, got 91",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in:\n%v", want, err)
		}
	}
	if !errors.Is(err, errInvalid) {
		t.Error("errors.Is(ErrInvalid) is false")
	}
	var fe *FieldError
	if !errors.As(err, &fe) || fe.Field != "caseID" {
		t.Errorf("FieldError = %+v", fe)
	}
	_ = golden.Updating()
}

func TestDeepPathsAreCut(t *testing.T) {
	v := New("pkg", errInvalid)
	for range 20 {
		v.Enter("a")
	}
	v.Required("x", "")
	for range 20 {
		v.Leave()
	}
	v.Required("top", "")
	if err := v.Err(); !strings.Contains(err.Error(), "pkg: top: required") {
		t.Errorf("Leave after overflow lost track: %v", err)
	}
}

// A valid request is checked on every webhook reply: it must not allocate.
func TestValidPathDoesNotAllocate(t *testing.T) {
	allocs := testing.AllocsPerRun(100, func() {
		v := New("pkg", errInvalid)
		for i := range 5 {
			v.EnterIndex("actions", i)
			v.Enter("payload")
			v.Required("body", "hello")
			v.MaxLen("body", "hello", 10)
			v.Range("lat", 1, -90, 90)
			v.Leave()
			v.Leave()
		}
		if v.Err() != nil {
			t.Fatal("unexpected error")
		}
	})
	if allocs != 0 {
		t.Errorf("validating a valid request allocated %v times", allocs)
	}
}
