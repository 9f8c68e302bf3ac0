package redisstore

import (
	"errors"
	"sync"

	"github.com/botwire/botwire/store"
)

var _ store.Binder = (*Store)(nil)

// bound is the bot a Store serves, kept in the Store value.
type bound struct {
	mu  sync.Mutex
	bot string
}

// Bind implements store.Binder: a Store serves one bot. The handlers bind
// the stores given to WithDeduplication and WithQueue at construction, so
// a second bot on this Store (another credential, another platform) is
// refused with store.ErrSharedStore; handlers of the bot itself bind it
// any number of times.
//
// The bot is kept in this Store value only, not in Redis: two Store values
// with one Prefix on one Redis (other processes, or another New in this
// one) are not checked against each other. Give each bot its own
// Options.Prefix. A record in Redis could not tell another bot from the
// same bot after its credential was rotated (the identity is derived from
// the credential), so replicas in a rolling deployment, some with the old
// credential and some with the new, would refuse each other.
func (s *Store) Bind(bot string) error {
	if bot == "" {
		return errors.New("redisstore: Bind needs a bot identity")
	}
	s.bound.mu.Lock()
	defer s.bound.mu.Unlock()
	switch s.bound.bot {
	case "":
		s.bound.bot = bot
	case bot:
	default:
		return store.ErrSharedStore
	}
	return nil
}
