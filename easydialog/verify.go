package easydialog

import (
	"crypto/hmac"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"hash"
	"strings"
	"sync"
)

// SignatureHeader carries the request's signature.
const SignatureHeader = "X-BM-Signature"

// Signature errors; none contains the key, the signature or a MAC.
var (
	ErrMissingSignature = errors.New("easydialog: missing signature")
	ErrInvalidSignature = errors.New("easydialog: invalid signature")
	ErrNoKey            = errors.New("easydialog: empty signature key")
)

// Sign returns the X-BM-Signature of body under key, as Easy Dialog
// computes it: base64_encode(hash_hmac('sha512', $json, $key, true)). Use it
// to sign requests in tests.
func Sign(body []byte, key string) string {
	m := hmac.New(sha512.New, []byte(key))
	m.Write(body)
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// VerifySignature checks signature (the X-BM-Signature value) over the raw
// body bytes in constant time. Verify the bytes exactly as received: Easy
// Dialog is PHP and escapes "/" as "\/", so a re-encoded body would not
// match. Padding-free base64 is accepted too.
func VerifySignature(body []byte, signature, key string) error {
	if key == "" {
		return ErrNoKey
	}
	return newVerifier(key).verify(body, signature)
}

// verifier keeps HMAC states keyed once, so a handler does not rebuild the
// key schedule for every request.
type verifier struct {
	pool sync.Pool
}

func newVerifier(key string) *verifier {
	k := []byte(key)
	return &verifier{pool: sync.Pool{New: func() any { return hmac.New(sha512.New, k) }}}
}

func (v *verifier) verify(body []byte, signature string) error {
	signature = strings.TrimSpace(signature)
	if signature == "" {
		return ErrMissingSignature
	}
	var got [sha512.Size + 3]byte // room to notice a signature that is too long
	n, err := decodeSignature(got[:], signature)
	if err != nil || n != sha512.Size {
		return ErrInvalidSignature
	}
	m := v.pool.Get().(hash.Hash)
	m.Reset()
	m.Write(body)
	var want [sha512.Size]byte
	m.Sum(want[:0])
	v.pool.Put(m)
	if !hmac.Equal(got[:n], want[:]) {
		return ErrInvalidSignature
	}
	return nil
}

func decodeSignature(dst []byte, s string) (int, error) {
	enc := base64.StdEncoding
	if !strings.HasSuffix(s, "=") && len(s)%4 != 0 {
		enc = base64.RawStdEncoding
	}
	var src [128]byte // a valid signature is 88 characters; copying avoids an allocation
	if len(s) > len(src) || enc.DecodedLen(len(s)) > len(dst) {
		return 0, ErrInvalidSignature
	}
	return enc.Decode(dst, src[:copy(src[:], s)])
}
