package jsonx

import (
	"encoding/binary"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// Reader decodes one JSON document in a single pass, for the handlers' fast
// path. json.Unmarshal scans a body twice (checkValid, then the decoding,
// which unquotes every string once more); a Reader validates and decodes in
// the same pass, and copies a string only once.
//
// A Reader never accepts what encoding/json refuses, and it gives up rather
// than decode anything differently from encoding/json: a key that is
// escaped, not ASCII or matches a field only case-insensitively, a field
// seen twice in one object, a value of another type than its field's, an
// object nested deeper than maxDepth. After giving up (Failed), every
// method is a no-op, and the caller decodes the document with json.Unmarshal
// as it did before, which gives the same result or the error. The fast path
// therefore changes no behaviour: it only makes the usual body cheaper.
//
// The methods follow the grammar: Object, then More and Field (or Key) for
// each member; Array, then More for each element; a value method (String,
// Float, Int, Raw, Skip, Null) for each value; End after the top-level
// value.
type Reader struct {
	data   []byte
	pos    int
	depth  int
	first  bool // no member or element yet in the innermost object or array
	failed bool
	arrays [maxDepth / 64]uint64 // bit d: the container at depth d is an array
}

// maxDepth bounds the nesting the fast path follows; encoding/json's own
// limit (10000) is left to it.
const maxDepth = 512

// NewReader returns a Reader of data.
func NewReader(data []byte) Reader { return Reader{data: data} }

// Fail makes the Reader give up: the caller decodes with json.Unmarshal.
func (r *Reader) Fail() { r.failed = true }

// Failed reports whether the Reader gave up.
func (r *Reader) Failed() bool { return r.failed }

// Pos is the offset of the next byte to read.
func (r *Reader) Pos() int { return r.pos }

func (r *Reader) space() {
	for r.pos < len(r.data) {
		switch r.data[r.pos] {
		case ' ', '\t', '\n', '\r':
			r.pos++
		default:
			return
		}
	}
}

// Peek returns the first byte of the next value ('{', '[', '"', 'n', 't',
// 'f', '-' or a digit), or 0 at the end of the input or after a failure.
func (r *Reader) Peek() byte {
	if r.failed {
		return 0
	}
	r.space()
	if r.pos >= len(r.data) {
		return 0
	}
	return r.data[r.pos]
}

// End reports whether the document was read whole, without a failure:
// nothing but white space may follow the top-level value.
func (r *Reader) End() bool {
	if r.failed {
		return false
	}
	r.space()
	if r.pos != len(r.data) || r.depth != 0 {
		r.failed = true
	}
	return !r.failed
}

// Object reads the '{' of an object; it fails on anything else.
func (r *Reader) Object() bool { return r.open('{') }

// Array reads the '[' of an array; it fails on anything else.
func (r *Reader) Array() bool { return r.open('[') }

func (r *Reader) open(c byte) bool {
	if r.Peek() != c || r.depth >= maxDepth {
		r.failed = true
		return false
	}
	if c == '[' {
		r.arrays[r.depth/64] |= 1 << (r.depth % 64)
	} else {
		r.arrays[r.depth/64] &^= 1 << (r.depth % 64)
	}
	r.pos++
	r.depth++
	r.first = true
	return true
}

// More reports whether the innermost object or array has another member or
// element, reading the ',' before it; at the closing '}' or ']' it reads it
// and returns false. After More returns true, read the member's key
// (Field, Key) or the element's value.
func (r *Reader) More() bool {
	c := r.Peek()
	switch {
	case c == '}' || c == ']':
		d := r.depth - 1
		if d < 0 || (c == ']') != (r.arrays[d/64]&(1<<(d%64)) != 0) {
			r.failed = true
			return false
		}
		r.pos++
		r.depth--
		r.first = false
		return false
	case c == 0:
		r.failed = true
		return false
	case r.first:
		// A ',' here is refused by the key or value that must follow.
		r.first = false
		return true
	case c == ',':
		r.pos++
		return true
	}
	r.failed = true
	return false
}

// Key reads a member's key and the ':' after it, and returns the key's
// bytes without the quotes. It fails on a key that is escaped or not
// ASCII, whose matching to a field it does not reproduce.
func (r *Reader) Key() []byte {
	if r.Peek() != '"' {
		r.failed = true
		return nil
	}
	start := r.pos + 1
	end, escaped, ascii := r.scanString()
	if r.failed {
		return nil
	}
	if escaped || !ascii {
		r.failed = true
		return nil
	}
	if r.Peek() != ':' {
		r.failed = true
		return nil
	}
	r.pos++
	return r.data[start:end]
}

// Fields are the JSON names of a struct's fields, as encoding/json matches
// them: exactly, or else case-insensitively. List every field the struct
// decodes, so that a key that folds to one is noticed.
type Fields struct {
	names  []string
	index  map[string]int // for long lists
	folded map[string]int // upper-case names
	max    int            // the longest name
}

// NewFields prepares names for Field. A struct has at most 64 of them.
func NewFields(names ...string) *Fields {
	if len(names) > 64 {
		panic("jsonx: NewFields takes at most 64 names")
	}
	f := &Fields{names: names, folded: map[string]int{}}
	if len(names) > 12 {
		f.index = map[string]int{}
	}
	for i, n := range names {
		if f.index != nil {
			f.index[n] = i
		}
		f.folded[strings.ToUpper(n)] = i
		f.max = max(f.max, len(n))
	}
	return f
}

// Field reads a member's key and returns the index of its field in f, or
// -1 for a key f does not name, whose value it skips. seen records the
// fields read in this object: a field named twice, or a key that matches a
// field only case-insensitively, makes the Reader fail (encoding/json would
// merge the values, or fill the field), as does a failure to read the key.
func (r *Reader) Field(f *Fields, seen *uint64) int {
	k := r.Key()
	if r.failed {
		return -1
	}
	i := f.lookup(k)
	if i < 0 {
		if f.folds(k) {
			r.failed = true
			return -1
		}
		r.Skip()
		return -1
	}
	if *seen&(1<<i) != 0 {
		r.failed = true
		return -1
	}
	*seen |= 1 << i
	return i
}

func (f *Fields) lookup(k []byte) int {
	if f.index != nil {
		if i, ok := f.index[string(k)]; ok {
			return i
		}
		return -1
	}
	for i, n := range f.names {
		if n == string(k) {
			return i
		}
	}
	return -1
}

// folds reports whether the ASCII key k equals a name case-insensitively.
func (f *Fields) folds(k []byte) bool {
	if len(k) > f.max {
		return false
	}
	var buf [64]byte
	if len(k) > len(buf) {
		return false
	}
	up := buf[:len(k)]
	for i, c := range k {
		if 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
		up[i] = c
	}
	_, ok := f.folded[string(up)]
	return ok
}

// Null reads a null and returns true, or returns false, reading nothing,
// when the next value is another.
func (r *Reader) Null() bool {
	if r.Peek() != 'n' {
		return false
	}
	r.literal("null")
	return !r.failed
}

func (r *Reader) literal(lit string) {
	if len(r.data)-r.pos < len(lit) || string(r.data[r.pos:r.pos+len(lit)]) != lit {
		r.failed = true
		return
	}
	r.pos += len(lit)
}

// String reads a string value, decoded as encoding/json decodes it into a
// string field; a null is "" (the field is left as it was, and Readers
// fill fresh structs). Anything else fails.
func (r *Reader) String() string {
	switch r.Peek() {
	case '"':
	case 'n':
		r.literal("null")
		return ""
	default:
		r.failed = true
		return ""
	}
	start := r.pos + 1
	end, escaped, ascii := r.scanString()
	if r.failed {
		return ""
	}
	s := r.data[start:end]
	if !escaped && (ascii || utf8.Valid(s)) {
		return string(s)
	}
	return unquote(s)
}

// StringValue reads a string value like String, and reports with ok
// whether it was a string rather than a null.
func (r *Reader) StringValue() (s string, ok bool) {
	ok = r.Peek() == '"'
	s = r.String()
	return s, ok && !r.failed
}

// Float reads a number into a float64 as encoding/json does; a null is 0.
// A number out of float64's range, or anything but a number, fails.
func (r *Reader) Float() float64 {
	if r.Null() {
		return 0
	}
	tok := r.number()
	if r.failed {
		return 0
	}
	f, err := strconv.ParseFloat(string(tok), 64)
	if err != nil {
		r.failed = true
		return 0
	}
	return f
}

// Int reads a number into an int64 as encoding/json does into an int; a
// null is 0. A fraction, an exponent, a number out of range, or anything
// but a number, fails.
func (r *Reader) Int() int64 {
	if r.Null() {
		return 0
	}
	tok := r.number()
	if r.failed {
		return 0
	}
	n, err := strconv.ParseInt(string(tok), 10, 64)
	if err != nil {
		r.failed = true
		return 0
	}
	return n
}

// Number reads a number and returns its literal bytes; anything else fails.
func (r *Reader) Number() []byte {
	if c := r.Peek(); c != '-' && (c < '0' || c > '9') {
		r.failed = true
		return nil
	}
	return r.number()
}

// number reads a number token as encoding/json's scanner does: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?.
func (r *Reader) number() []byte {
	d, start := r.data, r.pos
	i := r.pos
	if i < len(d) && d[i] == '-' {
		i++
	}
	switch {
	case i < len(d) && d[i] == '0':
		i++
	case i < len(d) && d[i] >= '1' && d[i] <= '9':
		for i++; i < len(d) && d[i] >= '0' && d[i] <= '9'; i++ {
		}
	default:
		r.failed = true
		return nil
	}
	if i < len(d) && d[i] == '.' {
		i++
		if i >= len(d) || d[i] < '0' || d[i] > '9' {
			r.failed = true
			return nil
		}
		for ; i < len(d) && d[i] >= '0' && d[i] <= '9'; i++ {
		}
	}
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		i++
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			i++
		}
		if i >= len(d) || d[i] < '0' || d[i] > '9' {
			r.failed = true
			return nil
		}
		for ; i < len(d) && d[i] >= '0' && d[i] <= '9'; i++ {
		}
	}
	r.pos = i
	return d[start:i]
}

// Raw reads any value, validating it, and returns its bytes within the
// document (not a copy).
func (r *Reader) Raw() []byte {
	r.space()
	start := r.pos
	r.Skip()
	if r.failed {
		return nil
	}
	return r.data[start:r.pos]
}

// Skip reads any value, validating it as encoding/json does.
func (r *Reader) Skip() {
	switch c := r.Peek(); c {
	case '{':
		r.open('{')
		for r.More() {
			if r.Peek() != '"' {
				r.failed = true
				return
			}
			r.scanString()
			if r.Peek() != ':' {
				r.failed = true
				return
			}
			r.pos++
			r.Skip()
		}
	case '[':
		r.open('[')
		for r.More() {
			r.Skip()
		}
	case '"':
		r.scanString()
	case 't':
		r.literal("true")
	case 'f':
		r.literal("false")
	case 'n':
		r.literal("null")
	case 0:
		r.failed = true
	default:
		r.Number()
	}
}

const (
	lows  = 0x0101010101010101
	highs = 0x8080808080808080
)

// scanString reads the string that starts at r.pos (a '"'), validating
// it as encoding/json's scanner does (no control character, only the
// escapes of RFC 8259). It returns the offset of the closing quote,
// whether the string has an escape, and whether it is all ASCII; r.pos is
// then after the closing quote.
func (r *Reader) scanString() (end int, escaped, ascii bool) {
	d := r.data
	i := r.pos + 1
	ascii = true
	for {
		// Eight bytes at a time while none is a quote, a backslash, a
		// control character or a byte of a multi-byte sequence.
		for len(d)-i >= 8 {
			x := binary.LittleEndian.Uint64(d[i:])
			q := x ^ ('"' * lows)
			b := x ^ ('\\' * lows)
			if ((q-lows)&^q|(b-lows)&^b|(x-0x20*lows)|x)&highs != 0 {
				break
			}
			i += 8
		}
		if i >= len(d) {
			r.failed = true
			return 0, false, false
		}
		switch c := d[i]; {
		case c == '"':
			r.pos = i + 1
			return i, escaped, ascii
		case c == '\\':
			escaped = true
			if i+1 >= len(d) {
				r.failed = true
				return 0, false, false
			}
			switch d[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if len(d)-i < 6 || !isHex(d[i+2]) || !isHex(d[i+3]) || !isHex(d[i+4]) || !isHex(d[i+5]) {
					r.failed = true
					return 0, false, false
				}
				i += 6
			default:
				r.failed = true
				return 0, false, false
			}
		case c < 0x20:
			r.failed = true
			return 0, false, false
		case c >= 0x80:
			ascii = false
			i++
		default:
			i++
		}
	}
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// unquote decodes the content of a valid JSON string (without its quotes)
// as encoding/json does: escapes resolved, a surrogate pair joined, a lone
// surrogate and every invalid UTF-8 byte replaced by U+FFFD.
func unquote(s []byte) string {
	b := make([]byte, 0, len(s)+2*utf8.UTFMax)
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '\\':
			switch e := s[i+1]; e {
			case 'b':
				b = append(b, '\b')
			case 'f':
				b = append(b, '\f')
			case 'n':
				b = append(b, '\n')
			case 'r':
				b = append(b, '\r')
			case 't':
				b = append(b, '\t')
			case 'u':
				rr := hex4(s[i+2:])
				i += 6
				if utf16.IsSurrogate(rr) {
					if len(s)-i >= 6 && s[i] == '\\' && s[i+1] == 'u' && isHex(s[i+2]) && isHex(s[i+3]) && isHex(s[i+4]) && isHex(s[i+5]) {
						if dec := utf16.DecodeRune(rr, hex4(s[i+2:])); dec != utf8.RuneError {
							i += 6
							b = utf8.AppendRune(b, dec)
							continue
						}
					}
					rr = utf8.RuneError
				}
				b = utf8.AppendRune(b, rr)
				continue
			default: // '"', '\\', '/'
				b = append(b, e)
			}
			i += 2
		case c < utf8.RuneSelf:
			b = append(b, c)
			i++
		default:
			rr, size := utf8.DecodeRune(s[i:])
			i += size
			b = utf8.AppendRune(b, rr)
		}
	}
	return string(b)
}

func hex4(s []byte) rune {
	var r rune
	for _, c := range s[:4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		default:
			c = c - 'A' + 10
		}
		r = r<<4 | rune(c)
	}
	return r
}

// Strings reads an object whose fields are all strings: the field f names
// at index i into dst[i]. A null object leaves them as they are.
func (r *Reader) Strings(f *Fields, dst ...*string) {
	if r.Null() || !r.Object() {
		return
	}
	var seen uint64
	for r.More() {
		if i := r.Field(f, &seen); i >= 0 {
			*dst[i] = r.String()
		}
	}
}

// Bytes returns the document's bytes from start (a Pos) to the current
// position: the span of the values read since.
func (r *Reader) Bytes(start int) []byte {
	if r.failed || start > r.pos {
		return nil
	}
	return r.data[start:r.pos]
}

// NumberOrString reads a value as NumberOrString.UnmarshalJSON does: a
// string, a number (its literal digits) or null (the zero value); anything
// else fails.
func (r *Reader) NumberOrString() NumberOrString {
	switch c := r.Peek(); {
	case c == '"':
		return NumberOrString{text: r.String()}
	case c == 'n':
		r.literal("null")
		return NumberOrString{}
	default:
		tok := r.Number()
		if r.failed {
			return NumberOrString{}
		}
		return NumberOrString{text: string(tok), number: true}
	}
}
