package inbound

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/botwire/botwire/store"
)

func TestBotIdentity(t *testing.T) {
	mac := hmac.New(sha256.New, []byte("s3cr3t"))
	mac.Write([]byte("botwire bot identity"))
	if got, want := NewBot("onetalk", "s3cr3t").String(), "onetalk:"+hex.EncodeToString(mac.Sum(nil)[:8]); got != want {
		t.Fatalf("NewBot = %s, want %s", got, want)
	}
	if got := NewBot("userlike").String(); got != "userlike:unauthenticated" {
		t.Fatalf("no credential: %s", got)
	}
	if got := AuthBot("ultimate", AuthConfig{None: true}).String(); got != "ultimate:unauthenticated" {
		t.Fatalf("WithoutAuthentication: %s", got)
	}
	distinct := map[string]Bot{
		"onetalk k":            NewBot("onetalk", "k"),
		"easydialog k":         NewBot("easydialog", "k"),
		"onetalk k2":           NewBot("onetalk", "k2"),
		"basic ab c":           AuthBot("ultimate", AuthConfig{Basic: true, User: "ab", Password: "c"}),
		"basic a bc":           AuthBot("ultimate", AuthConfig{Basic: true, User: "a", Password: "bc"}),
		"header ab c":          AuthBot("ultimate", AuthConfig{Headers: []Header{{"ab", "c"}}}),
		"header a bc":          AuthBot("ultimate", AuthConfig{Headers: []Header{{"a", "bc"}}}),
		"header and basic":     AuthBot("ultimate", AuthConfig{Headers: []Header{{"a", "bc"}}, Basic: true, User: "u", Password: "p"}),
		"unauthenticated":      AuthBot("ultimate", AuthConfig{None: true}),
		"userlike header ab c": AuthBot("userlike", AuthConfig{Headers: []Header{{"ab", "c"}}}),
		"two headers":          AuthBot("userlike", AuthConfig{Headers: []Header{{"X-A", "1"}, {"X-B", "2"}}}),
		"two headers, swapped": AuthBot("userlike", AuthConfig{Headers: []Header{{"X-A", "2"}, {"X-B", "1"}}}),
	}
	seen := map[string]string{}
	for name, b := range distinct {
		if other, ok := seen[b.String()]; ok {
			t.Errorf("%s and %s have one identity %s", name, other, b)
		}
		seen[b.String()] = name
		for _, secret := range []string{"c", "bc", "k2", "1", "2"} {
			if strings.HasSuffix(b.String(), ":"+secret) {
				t.Errorf("%s shows its credential: %s", name, b)
			}
		}
	}
	same := []Bot{
		AuthBot("userlike", AuthConfig{Headers: []Header{{"X-A", "1"}, {"X-B", "2"}}}),
		AuthBot("userlike", AuthConfig{Headers: []Header{{"x-b", "2"}, {"x-a", "1"}}}),
	}
	if same[0] != same[1] {
		t.Errorf("the order and case of header options changed the identity: %s, %s", same[0], same[1])
	}
}

type notBinder struct{ store.Queue }

func TestBotBind(t *testing.T) {
	d := store.NewMemoryDeduplicator()
	a, b := NewBot("onetalk", "secret-a"), NewBot("onetalk", "secret-b")
	if err := a.Bind("WithDeduplication", d); err != nil {
		t.Fatal(err)
	}
	if err := a.Bind("WithDeduplication", d); err != nil {
		t.Fatalf("the same bot again: %v", err)
	}
	err := b.Bind("WithDeduplication", d)
	if !errors.Is(err, store.ErrSharedStore) {
		t.Fatalf("another bot: %v", err)
	}
	want := "onetalk: the store passed to WithDeduplication already serves another bot (another credential, or another platform's bot); " +
		"give each bot its own store: redisstore.Options.Prefix, or a store.NewMemoryDeduplicator per bot"
	if err.Error() != want {
		t.Fatalf("error:\n%s\nwant\n%s", err, want)
	}
	if strings.Contains(err.Error(), a.String()[len("onetalk:"):]) || strings.Contains(err.Error(), "secret") {
		t.Fatalf("the error shows a fingerprint or a credential: %s", err)
	}
	// Another platform's bot with the same credential is another bot.
	if err := NewBot("easydialog", "secret-a").Bind("WithDeduplication", d); !errors.Is(err, store.ErrSharedStore) {
		t.Fatalf("another platform: %v", err)
	}
	q := store.NewMemoryQueue(store.QueueOptions{})
	_ = a.Bind("WithQueue", q)
	if err := b.Bind("WithQueue", q); err == nil || !strings.Contains(err.Error(), "store.NewMemoryQueue per bot") {
		t.Fatalf("queue: %v", err)
	}
	for _, st := range []any{nil, notBinder{q}} {
		if err := b.Bind("WithQueue", st); err != nil {
			t.Fatalf("a store that does not bind: %v", err)
		}
	}
}
