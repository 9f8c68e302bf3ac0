package onetalk

import "github.com/botwire/botwire/internal/inbound"

// SecretHeader is the header in which OneTalk sends the secret key to the
// bot. The bot sends the same key back in ClientSecretHeader (the asymmetry
// is OneTalk's, and deliberate).
const (
	SecretHeader       = "X-Secret-Key"
	ClientSecretHeader = "Secret-Key"
)

// VerifySecret checks the X-Secret-Key value got against the chatbot's secret
// key in constant time. It returns ErrNoSecret, ErrMissingSecret or
// ErrInvalidSecret; no error contains either value.
func VerifySecret(got, secret string) error {
	switch {
	case secret == "":
		return ErrNoSecret
	case got == "":
		return ErrMissingSecret
	case !inbound.Equal(got, secret):
		return ErrInvalidSecret
	}
	return nil
}
