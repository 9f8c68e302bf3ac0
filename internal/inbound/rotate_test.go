package inbound

import (
	"context"
	"fmt"
	"net/http/httptest"
	"testing"
)

func TestSecretsMatch(t *testing.T) {
	s := NewSecrets("new", "old", "", "older")
	for _, c := range []struct {
		got   string
		index int
		ok    bool
	}{{"new", 0, true}, {"old", 1, true}, {"older", 2, true}, {"", 0, false}, {"nope", 0, false}, {"ne", 0, false}} {
		i, ok := s.Match(c.got)
		if i != c.index || ok != c.ok {
			t.Errorf("Match(%q) = %d, %v; want %d, %v", c.got, i, ok, c.index, c.ok)
		}
	}
	if got := fmt.Sprintf("%v %+v %#v", s, s, s); got != "[REDACTED] [REDACTED] [REDACTED]" {
		t.Errorf("printed as %q", got)
	}
	if _, ok := NewSecrets("").Match("x"); ok {
		t.Error("an empty current credential matched")
	}
}

func TestAuthMatchWithPrevious(t *testing.T) {
	a, err := NewAuth(AuthConfig{Headers: []Header{{"X-Token", "new"}}, PreviousHeaders: []Header{{"x-token", "old"}},
		Basic: true, User: "bot", Password: "pw2", PreviousPasswords: []string{"pw1"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		token, pass string
		index       int
		ok          bool
	}{{"new", "pw2", 0, true}, {"old", "pw2", 1, true}, {"new", "pw1", 1, true}, {"old", "pw1", 1, true}, {"x", "pw2", 0, false}, {"new", "x", 0, false}} {
		r := httptest.NewRequest("POST", "/", nil)
		r.Header.Set("X-Token", c.token)
		r.SetBasicAuth("bot", c.pass)
		i, ok := a.Match(r)
		if i != c.index || ok != c.ok {
			t.Errorf("token %q password %q: %d, %v; want %d, %v", c.token, c.pass, i, ok, c.index, c.ok)
		}
	}
	if _, err := NewAuth(AuthConfig{Headers: []Header{{"X-Token", "new"}}, PreviousHeaders: []Header{{"X-Other", "old"}}}); err == nil {
		t.Error("a previous value of a header that is not required was accepted")
	}
	if _, err := NewAuth(AuthConfig{Headers: []Header{{"X-Token", "new"}}, PreviousPasswords: []string{"p"}}); err == nil {
		t.Error("a previous password without basic auth was accepted")
	}
	ctx := WithCredential(context.Background(), 2)
	if i, ok := Credential(ctx); i != 2 || !ok {
		t.Errorf("Credential = %d, %v", i, ok)
	}
}

func TestMatchStrings(t *testing.T) {
	for _, c := range []struct {
		got   string
		index int
		ok    bool
	}{{"new", 0, true}, {"old", 1, true}, {"older", 3, true}, {"", 0, false}, {"x", 0, false}} {
		i, ok := MatchStrings(c.got, "new", []string{"old", "", "older"})
		if i != c.index || ok != c.ok {
			t.Errorf("MatchStrings(%q) = %d, %v; want %d, %v", c.got, i, ok, c.index, c.ok)
		}
	}
	if n := testing.AllocsPerRun(100, func() { MatchStrings("old", "new", []string{"old"}) }); n != 0 {
		t.Errorf("MatchStrings allocates %v times", n)
	}
}
