package easydialog

import (
	"crypto/hmac"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
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
//
// previous are keys still accepted while the adapter's key is rolled (see
// WithPreviousKeys): the signature passes when it matches key or any of
// them. The MAC is computed and compared under every key whatever matches
// first, so the time taken does not tell which key matched, and the error
// is the same whichever key the signature was close to. An empty key,
// current or previous, is ErrNoKey: the HMAC under an empty key is one
// anybody can compute.
func VerifySignature(body []byte, signature, key string, previous ...string) error {
	if err := checkKeys(key, previous, "previous key"); err != nil {
		return err
	}
	_, err := newKeyring(key, previous).match(body, signature)
	return err
}

// checkKeys refuses an empty key, the current one or a previous one; what
// names the previous keys in the error.
func checkKeys(key string, previous []string, what string) error {
	if key == "" {
		return ErrNoKey
	}
	for i, p := range previous {
		if p == "" {
			return fmt.Errorf("%w (%s %d of %d)", ErrNoKey, what, i+1, len(previous))
		}
	}
	return nil
}

// keyring is the current key and the previous ones, each with its pool of
// keyed HMAC states, so a handler does not rebuild the key schedule for
// every request.
type keyring struct {
	keys []*verifier // 0: the current key; i: the i-th previous one
}

func newKeyring(current string, previous []string) *keyring {
	k := &keyring{keys: make([]*verifier, 0, 1+len(previous))}
	k.keys = append(k.keys, newVerifier(current))
	for _, p := range previous {
		k.keys = append(k.keys, newVerifier(p))
	}
	return k
}

// match reports which key signed body: 0 the current one, i the i-th
// previous one. The signature is decoded once; the MAC is then computed
// and compared under every key, and the first match is picked without a
// branch on the comparisons, so neither the time taken nor the error tells
// which key matched or came close.
func (k *keyring) match(body []byte, signature string) (index int, err error) {
	signature = strings.TrimSpace(signature)
	if signature == "" {
		return 0, ErrMissingSignature
	}
	var got [sha512.Size + 3]byte // room to notice a signature that is too long
	n, err := decodeSignature(got[:], signature)
	if err != nil || n != sha512.Size {
		return 0, ErrInvalidSignature
	}
	index = -1
	for i, v := range k.keys {
		eq := v.compare(body, got[:n])
		first := subtle.ConstantTimeEq(int32(index), -1) & eq
		index = subtle.ConstantTimeSelect(first, i, index)
	}
	if index < 0 {
		return 0, ErrInvalidSignature
	}
	return index, nil
}

// matchKeys is keyring.match for keys looked up per request (a tenant's):
// one HMAC state keyed for each.
func matchKeys(body []byte, signature string, keys []string) (int, error) {
	k := &keyring{keys: make([]*verifier, len(keys))}
	for i, key := range keys {
		k.keys[i] = newVerifier(key)
	}
	return k.match(body, signature)
}

// verifier keeps HMAC states of one key, keyed once.
type verifier struct {
	pool sync.Pool // of *macState
}

// macState is a keyed HMAC and room for its sum: a sum appended to a
// buffer of the caller's would escape through the hash.Hash interface and
// cost an allocation per request.
type macState struct {
	mac hash.Hash
	sum [sha512.Size]byte
}

func newVerifier(key string) *verifier {
	k := []byte(key)
	return &verifier{pool: sync.Pool{New: func() any { return &macState{mac: hmac.New(sha512.New, k)} }}}
}

// compare computes the HMAC of body and compares it with got in constant
// time (subtle.ConstantTimeCompare: 1 when equal).
func (v *verifier) compare(body, got []byte) int {
	m := v.pool.Get().(*macState)
	m.mac.Reset()
	m.mac.Write(body)
	eq := subtle.ConstantTimeCompare(got, m.mac.Sum(m.sum[:0]))
	v.pool.Put(m)
	return eq
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
