package inbound

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/botwire/botwire/store"
)

// Bot is the identity of the bot a handler serves, as store.Binder takes
// it: the vendor and a fingerprint of the webhook credential. Handlers of
// one bot (replicas, or the chat and action webhooks of one Ultimate bot
// with one credential) have one identity; two bots have two, so a store
// given to both is refused at construction instead of running one bot's
// messages with the other's callback.
type Bot struct {
	vendor string
	id     string
}

// botLabel is the message of the fingerprint's HMAC.
const botLabel = "botwire bot identity"

// NewBot is the identity of vendor's bot whose webhook credential is
// credential (the secret, key or token the handler checks; several parts
// for a credential made of several, such as a user and a password). The
// fingerprint is the hex of the first 8 bytes of HMAC-SHA256 keyed by the
// credential over "botwire bot identity": it tells bots apart without
// holding the credential. No credential (a handler built with
// WithoutAuthentication) gives vendor:unauthenticated.
func NewBot(vendor string, credential ...string) Bot {
	if len(credential) == 0 {
		return Bot{vendor: vendor, id: vendor + ":unauthenticated"}
	}
	key := []byte(credential[0])
	if len(credential) > 1 {
		// Length-prefixed, so ("ab", "c") and ("a", "bc") differ.
		key = nil
		for _, c := range credential {
			key = binary.AppendUvarint(key, uint64(len(c)))
			key = append(key, c...)
		}
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(botLabel))
	return Bot{vendor: vendor, id: vendor + ":" + hex.EncodeToString(mac.Sum(nil)[:8])}
}

// TenantsBot is the identity of a handler that serves many tenants: its
// stores are shared by those tenants (their keys carry the tenant) and
// serve no single-tenant handler.
func TenantsBot(vendor string) Bot { return Bot{vendor: vendor, id: vendor + ":tenants"} }

// AuthBot is the identity of a bot that authenticates its webhook with c
// (Userlike, Ultimate): its required headers (names canonicalised, in a
// fixed order, so the order of the options does not matter) and its basic
// authentication user and password; with WithoutAuthentication,
// vendor:unauthenticated.
func AuthBot(vendor string, c AuthConfig) Bot {
	var parts []string
	hs := slices.Clone(c.Headers)
	for i := range hs {
		hs[i].Name = http.CanonicalHeaderKey(hs[i].Name)
	}
	slices.SortFunc(hs, func(a, b Header) int {
		if n := strings.Compare(a.Name, b.Name); n != 0 {
			return n
		}
		return strings.Compare(a.Value, b.Value)
	})
	for _, h := range hs {
		parts = append(parts, "header", h.Name, h.Value)
	}
	if c.Basic {
		parts = append(parts, "basic", c.User, c.Password)
	}
	return NewBot(vendor, parts...)
}

// String is the identity (vendor:fingerprint).
func (b Bot) String() string { return b.id }

// Bind binds st, the store given to option (WithDeduplication,
// WithQueue), to the bot, when st implements store.Binder; a nil store or
// one that does not implement it is not checked. It refuses a store that
// already serves another bot with an error that names the option and the
// fix and wraps store.ErrSharedStore. The error never holds the
// fingerprint: it is derived from a credential.
func (b Bot) Bind(option string, st any) error {
	bd, ok := st.(store.Binder)
	if !ok {
		return nil
	}
	err := bd.Bind(b.id)
	if err == nil {
		return nil
	}
	return &bindError{vendor: b.vendor, option: option, err: err}
}

type bindError struct {
	vendor, option string
	err            error
}

func (e *bindError) Error() string {
	if !errors.Is(e.err, store.ErrSharedStore) {
		return e.vendor + ": " + e.option + ": " + e.err.Error()
	}
	perBot := "store.NewMemoryDeduplicator"
	if e.option == "WithQueue" {
		perBot = "store.NewMemoryQueue"
	}
	return e.vendor + ": the store passed to " + e.option + " already serves another bot " +
		"(another credential, or another platform's bot); give each bot its own store: " +
		"redisstore.Options.Prefix, or a " + perBot + " per bot"
}

func (e *bindError) Unwrap() error { return e.err }
