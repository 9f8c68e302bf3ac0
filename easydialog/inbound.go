package easydialog

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/botwire/botwire/internal/jsonx"
)

// NumberOrString is a value Easy Dialog sends either as a JSON number or as
// a JSON string (providerMsgID, file sizes). It keeps the exact digits, even
// past 2^53, and re-encodes in the form it came in.
type NumberOrString = jsonx.NumberOrString

// Number returns a NumberOrString that encodes as a JSON number.
func Number(n int64) NumberOrString { return jsonx.Int(n) }

// NumberString returns a NumberOrString that encodes as a JSON string.
func NumberString(s string) NumberOrString { return jsonx.String(s) }

// Request is what Easy Dialog posts to the bot's webhook for every inbound
// message.
type Request struct {
	ServiceUUID string `json:"serviceUuid"` // the Business Messenger account
	// DialogUUID identifies the Easy Dialog conversation: use it as the
	// conversation key.
	DialogUUID string  `json:"dialogUuid"`
	Channel    string  `json:"channel"` // "viber", "sms", ... (the doc's prose capitalises them)
	Message    Message `json:"message"`
	Contact    Contact `json:"contact"`

	// Raw is the body exactly as received (and as signed).
	Raw json.RawMessage `json:"-"`
}

// Message is the inbound message.
type Message struct {
	From string        `json:"from"` // the sender's id on the channel (opaque for Viber)
	To   []Destination `json:"to"`
	// ProviderMsgID is the channel's message id. The doc's table says
	// string; its example sends a number beyond 2^53. Both decode exactly.
	ProviderMsgID   NumberOrString `json:"providerMsgID"`
	AllowedChannels []string       `json:"allowedChannels"` // sms, facebook, viber, telegram, instagram, gbm
	// Custom is "an array of custom values": [] and ["string"] in the doc;
	// kept as raw JSON of any shape.
	Custom    json.RawMessage `json:"custom,omitempty"`
	Timestamp Timestamp       `json:"timestamp"`
	Body      Body            `json:"body"`
}

// Destination is one entry of Message.To. The doc's table describes
// {number, alias} objects while its examples send strings; a string decodes
// into Number and encodes back as a string. PHP writes a number it holds as
// an int as a JSON number ("to": [41791234567]): that decodes into Number
// with its literal digits (exact past 2^53) and encodes back as the number.
type Destination struct {
	Number string `json:"number,omitempty"`
	Alias  string `json:"alias,omitempty"`
	plain  bool   // came as a bare string or number
	number bool   // came as a bare number
}

// UnmarshalJSON accepts "number", a bare JSON number, or
// {"number": ..., "alias": ...}.
func (d *Destination) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		*d = Destination{plain: true}
		return json.Unmarshal(b, &d.Number)
	}
	if jsonx.IsNumber(b) {
		*d = Destination{Number: string(b), plain: true, number: true}
		return nil
	}
	type destination Destination
	var v destination
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*d = Destination(v)
	return nil
}

// MarshalJSON writes the form the destination came in.
func (d Destination) MarshalJSON() ([]byte, error) {
	if d.plain && d.Alias == "" {
		if d.number && jsonx.IsNumber([]byte(d.Number)) {
			return []byte(d.Number), nil
		}
		return json.Marshal(d.Number)
	}
	type destination Destination
	return json.Marshal(destination(d))
}

// Timestamp is a PHP DateTime as json_encode writes it.
type Timestamp struct {
	Date string `json:"date"` // "2022-06-09 12:26:15.904000"
	// TimezoneType says how to read Timezone: 1 a UTC offset ("+00:00"),
	// 2 an abbreviation ("CEST"), 3 an identifier ("Europe/Zurich").
	TimezoneType int    `json:"timezone_type"`
	Timezone     string `json:"timezone"`
}

var offsetRE = regexp.MustCompile(`^([+-])(\d{2}):?(\d{2})$`)

// abbreviations PHP may write with timezone_type 2, with their offsets.
var abbreviations = map[string]int{
	"UTC": 0, "GMT": 0, "Z": 0, "WET": 0, "BST": 3600, "WEST": 3600, "CET": 3600, "CEST": 7200,
	"EET": 7200, "EEST": 10800, "MSK": 10800, "EST": -18000, "EDT": -14400, "CST": -21600,
	"CDT": -18000, "MST": -25200, "MDT": -21600, "PST": -28800, "PDT": -25200, "JST": 32400,
}

// Time converts the timestamp to a time.Time, honouring timezone_type 1, 2
// and 3. The schema's timezone_type 0 (not a PHP value) is read by the shape
// of Timezone.
func (ts Timestamp) Time() (time.Time, error) {
	if ts.Date == "" {
		return time.Time{}, errors.New("easydialog: timestamp has no date")
	}
	loc, err := ts.location()
	if err != nil {
		return time.Time{}, err
	}
	for _, layout := range []string{"2006-01-02 15:04:05.999999", "2006-01-02T15:04:05.999999", "2006-01-02 15:04"} {
		if t, err := time.ParseInLocation(layout, ts.Date, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("easydialog: cannot read timestamp date %q", ts.Date)
}

func (ts Timestamp) location() (*time.Location, error) {
	tz := strings.TrimSpace(ts.Timezone)
	if tz == "" {
		return time.UTC, nil
	}
	key := locationKey{ts.TimezoneType, tz}
	if v, ok := locations.Load(key); ok {
		return v.(cachedLocation).get(ts)
	}
	loc := findLocation(ts.TimezoneType, tz)
	if locationCount.Add(1) <= maxLocations {
		locations.Store(key, cachedLocation{loc})
	}
	return cachedLocation{loc}.get(ts)
}

// locations caches what findLocation found (nil for an unknown zone) by
// timezone_type and timezone: time.LoadLocation reads the zone database on
// every call, which cost more than the rest of the delivery. A zone does not
// change while the process runs. Easy Dialog signs the timestamp, so the
// keys are its values; the cache stops growing at maxLocations all the same.
var (
	locations     sync.Map // locationKey → cachedLocation
	locationCount atomic.Int32
)

const maxLocations = 256

type locationKey struct {
	typ int
	tz  string
}

type cachedLocation struct{ loc *time.Location }

func (c cachedLocation) get(ts Timestamp) (*time.Location, error) {
	if c.loc == nil {
		return nil, fmt.Errorf("easydialog: unknown timezone %q (timezone_type %d)", strings.TrimSpace(ts.Timezone), ts.TimezoneType)
	}
	return c.loc, nil
}

// findLocation reads tz as timezone_type says (1 an offset, 2 an
// abbreviation, 3 an identifier), then, tolerating a wrong or 0 type, as
// each of them in turn; nil when none reads it.
func findLocation(typ int, tz string) *time.Location {
	const (
		offset = iota + 1
		abbr
		ident
	)
	first := 0
	switch typ {
	case 1:
		first = offset
	case 2:
		first = abbr
	case 3:
		first = ident
	}
	for _, kind := range [...]int{first, offset, abbr, ident} {
		switch kind {
		case offset:
			if m := offsetRE.FindStringSubmatch(tz); m != nil {
				secs := (int(m[2][0]-'0')*10+int(m[2][1]-'0'))*3600 + (int(m[3][0]-'0')*10+int(m[3][1]-'0'))*60
				if m[1] == "-" {
					secs = -secs
				}
				return time.FixedZone(tz, secs)
			}
		case abbr:
			if secs, ok := abbreviations[strings.ToUpper(tz)]; ok {
				return time.FixedZone(strings.ToUpper(tz), secs)
			}
		case ident:
			if loc, err := time.LoadLocation(tz); err == nil {
				return loc
			}
		}
	}
	return nil
}

// Contact is the Business Messenger contact of the sender. The doc types
// every field as a string but sends null for most; null decodes as "".
type Contact struct {
	UUID             string `json:"uuid"`
	CreatedDT        string `json:"created_dt,omitempty"` // "2022-06-09 12:20:07", no time zone
	UpdatedDT        string `json:"updated_dt,omitempty"`
	OptStatus        string `json:"opt_status,omitempty"` // "in" or "out"
	OptStatusWebpush string `json:"opt_status_webpush,omitempty"`
	FirstName        string `json:"first_name,omitempty"`
	LastName         string `json:"last_name,omitempty"`
	SecondName       string `json:"second_name,omitempty"`
	NickName         string `json:"nick_name,omitempty"`
	Gender           string `json:"gender,omitempty"`
	Birthday         string `json:"birthday,omitempty"`
	Salutation       string `json:"salutation,omitempty"`
	Title            string `json:"title,omitempty"`
	Language         string `json:"language,omitempty"`
	Nationality      string `json:"nationality,omitempty"`
	Mobile           string `json:"mobile,omitempty"`
	Email            string `json:"email,omitempty"`
	Phone            string `json:"phone,omitempty"`
	Fax              string `json:"fax,omitempty"`
	Address          string `json:"address,omitempty"`
	Zip              string `json:"zip,omitempty"`
	City             string `json:"city,omitempty"`
	Region           string `json:"region,omitempty"`
	Country          string `json:"country,omitempty"`
	BCompany         string `json:"b_company,omitempty"`
	BMobile          string `json:"b_mobile,omitempty"`
	BEmail           string `json:"b_email,omitempty"`
	BFax             string `json:"b_fax,omitempty"`
	BPhone           string `json:"b_phone,omitempty"`
	BAddress         string `json:"b_address,omitempty"`
	BZip             string `json:"b_zip,omitempty"`
	BCity            string `json:"b_city,omitempty"`
	BRegion          string `json:"b_region,omitempty"`
	BCountry         string `json:"b_country,omitempty"`
	BJobTitle        string `json:"b_job_title,omitempty"`
	BDepartment      string `json:"b_department,omitempty"`
	BReceptionCode   string `json:"b_reception_code,omitempty"`
	ListUUID         string `json:"list_uuid,omitempty"`
	ChannelNames     string `json:"channel_names,omitempty"`
	// ChannelOptStatus arrives as "channel_opt_status" (the doc's schema) or
	// "channel_opt_statuses" (its realistic example); it is written as
	// "channel_opt_status".
	ChannelOptStatus string `json:"channel_opt_status,omitempty"`
}

// UnmarshalJSON accepts both spellings of channel_opt_status.
func (c *Contact) UnmarshalJSON(b []byte) error {
	type contact Contact
	var v struct {
		contact
		Statuses *string `json:"channel_opt_statuses"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	if v.ChannelOptStatus == "" && v.Statuses != nil {
		v.ChannelOptStatus = *v.Statuses
	}
	*c = Contact(v.contact)
	return nil
}

// Name returns the contact's name as a greeting would use it.
func (c *Contact) Name() string {
	if n := strings.TrimSpace(c.FirstName + " " + c.LastName); n != "" {
		return n
	}
	return c.NickName
}

// Text returns the content of a text message, or "".
func (m *Message) Text() string {
	if m.Body.Text != nil {
		return m.Body.Text.Content
	}
	return ""
}

// ErrMalformed reports an inbound body that is not Easy Dialog's JSON.
var ErrMalformed = errors.New("easydialog: malformed request")

// ParseRequest decodes an inbound request. Unknown fields and unknown body
// keys are not errors. The returned request's Raw refers to data. It does
// not check the signature: use VerifySignature on the same bytes first.
//
// Easy Dialog is written in PHP, whose json_encode writes an empty object
// as [], an array whose keys are not 0..n-1 as an object, and may write a
// number as a string or the other way round. The doc is silent on all of
// them, so ParseRequest reads them as a Go client expects: "contact": [] and
// "body": [] are empty objects, "allowedChannels": {"1": "viber"} is the
// list ["viber"] (an object with integer keys is the list of its values in
// key order), "zip": 8000 is the string "8000", "to": [41791234567] is the
// destination "41791234567", "timezone_type": "3" is 3. A body in the
// documented shape is decoded in one pass; only one that fails on a type is
// rewritten and decoded again. The error of a malformed body wraps
// ErrMalformed and the decoding error (truncated JSON, wrong type for a
// field and its path).
func ParseRequest(data []byte) (*Request, error) {
	if t := bytes.TrimSpace(data); len(t) == 0 || t[0] != '{' {
		return nil, fmt.Errorf("%w: not a JSON object", ErrMalformed)
	}
	if req, ok := readRequest(data); ok {
		req.Raw = data
		return req, nil
	}
	return unmarshalRequest(data)
}

// unmarshalRequest is ParseRequest by json.Unmarshal: the reference the
// fast path is tested against, and what it falls back to.
func unmarshalRequest(data []byte) (*Request, error) {
	req, err := decodeRequest(data)
	if jsonx.IsTypeError(err) {
		if fixed, changed := jsonx.PHPShapes(data, requestType); changed {
			req, err = decodeRequest(fixed)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	req.Raw = data
	return req, nil
}

// requestWire and messageWire are Request and Message with the body as
// the plain struct, so a request decodes in one json.Unmarshal: Body's
// UnmarshalJSON would scan the body (and a large text) twice more. Unknown
// body keys are then found by a scan of the body's bytes, and decoded only
// when there are some.
type requestWire struct {
	ServiceUUID string      `json:"serviceUuid"`
	DialogUUID  string      `json:"dialogUuid"`
	Channel     string      `json:"channel"`
	Message     messageWire `json:"message"`
	Contact     Contact     `json:"contact"`
}

type messageWire struct {
	From            string          `json:"from"`
	To              []Destination   `json:"to"`
	ProviderMsgID   NumberOrString  `json:"providerMsgID"`
	AllowedChannels []string        `json:"allowedChannels"`
	Custom          json.RawMessage `json:"custom,omitempty"`
	Timestamp       Timestamp       `json:"timestamp"`
	Body            body            `json:"body"`
}

func decodeRequest(data []byte) (*Request, error) {
	var w requestWire
	if err := json.Unmarshal(data, &w); err != nil {
		return nil, err
	}
	m := w.Message
	req := &Request{ServiceUUID: w.ServiceUUID, DialogUUID: w.DialogUUID, Channel: w.Channel, Contact: w.Contact,
		Message: Message{From: m.From, To: m.To, ProviderMsgID: m.ProviderMsgID, AllowedChannels: m.AllowedChannels,
			Custom: m.Custom, Timestamp: m.Timestamp, Body: Body(m.Body)}}
	req.Message.Body.keepUnknown(jsonx.Field(jsonx.Field(data, "message"), "body"))
	return req, nil
}

var requestType = reflect.TypeFor[Request]()

// The fields of the request's objects, for readRequest.
var (
	requestFields   = jsonx.NewFields("serviceUuid", "dialogUuid", "channel", "message", "contact")
	messageFields   = jsonx.NewFields("from", "to", "providerMsgID", "allowedChannels", "custom", "timestamp", "body")
	timestampFields = jsonx.NewFields("date", "timezone_type", "timezone")
	bodyFields      = jsonx.NewFields("textMessage", "pictureMessage", "videoMessage", "audioMessage", "fileMessage",
		"fileListMessage", "locationMessage", "contactMessage", "suggestionsMessage", "cardMessage", "cardCarouselMessage")
	textFields        = jsonx.NewFields("content")
	destinationFields = jsonx.NewFields("number", "alias")
	contactFields     = jsonx.NewFields("uuid", "created_dt", "updated_dt", "opt_status", "opt_status_webpush",
		"first_name", "last_name", "second_name", "nick_name", "gender", "birthday", "salutation", "title", "language",
		"nationality", "mobile", "email", "phone", "fax", "address", "zip", "city", "region", "country", "b_company",
		"b_mobile", "b_email", "b_fax", "b_phone", "b_address", "b_zip", "b_city", "b_region", "b_country",
		"b_job_title", "b_department", "b_reception_code", "list_uuid", "channel_names", "channel_opt_status",
		"channel_opt_statuses")
)

// readRequest is ParseRequest's one-pass fast path (jsonx.Reader), for a
// body in the documented shape: ok is false when the body is not one it
// decodes exactly as json.Unmarshal would (a PHP shape, a key in another
// case, an error...), and ParseRequest then decodes it the usual way. The
// rarer body messages (pictures, cards, ...) are decoded by json.Unmarshal
// from their span.
func readRequest(data []byte) (req *Request, ok bool) {
	r := jsonx.NewReader(data)
	if !r.Object() {
		return nil, false
	}
	req = new(Request)
	var seen uint64
	for r.More() {
		switch r.Field(requestFields, &seen) {
		case 0:
			req.ServiceUUID = r.String()
		case 1:
			req.DialogUUID = r.String()
		case 2:
			req.Channel = r.String()
		case 3:
			readMessage(&r, &req.Message)
		case 4:
			readContact(&r, &req.Contact)
		}
	}
	if !r.End() {
		return nil, false
	}
	return req, true
}

func readMessage(r *jsonx.Reader, m *Message) {
	if r.Null() || !r.Object() {
		return
	}
	var seen uint64
	for r.More() {
		switch r.Field(messageFields, &seen) {
		case 0:
			m.From = r.String()
		case 1:
			if r.Null() || !r.Array() {
				break
			}
			m.To = make([]Destination, 0)
			for r.More() {
				m.To = append(m.To, readDestination(r))
			}
		case 2:
			m.ProviderMsgID = r.NumberOrString()
		case 3:
			if r.Null() || !r.Array() {
				break
			}
			m.AllowedChannels = make([]string, 0)
			for r.More() {
				m.AllowedChannels = append(m.AllowedChannels, r.String())
			}
		case 4:
			m.Custom = jsonx.Clone(r.Raw()) // json.RawMessage copies
		case 5:
			if r.Null() || !r.Object() {
				break
			}
			var seen uint64
			ts := &m.Timestamp
			for r.More() {
				switch r.Field(timestampFields, &seen) {
				case 0:
					ts.Date = r.String()
				case 1:
					n := r.Int()
					if int64(int(n)) != n {
						r.Fail()
					}
					ts.TimezoneType = int(n)
				case 2:
					ts.Timezone = r.String()
				}
			}
		case 6:
			readBody(r, &m.Body)
		}
	}
}

// readDestination reads an entry of message.to as Destination.UnmarshalJSON
// does: a string, a number or {number, alias}.
func readDestination(r *jsonx.Reader) Destination {
	switch c := r.Peek(); {
	case c == '"':
		return Destination{Number: r.String(), plain: true}
	case c == '{':
		var d Destination
		r.Strings(destinationFields, &d.Number, &d.Alias)
		return d
	case c == 'n':
		r.Null()
		return Destination{}
	default:
		return Destination{Number: string(r.Number()), plain: true, number: true}
	}
}

func readBody(r *jsonx.Reader, b *Body) {
	if r.Null() {
		return
	}
	r.Peek() // past the white space
	start := r.Pos()
	if !r.Object() {
		return
	}
	var seen uint64
	unknown := false
	for r.More() {
		i := r.Field(bodyFields, &seen)
		if i < 0 {
			unknown = true
			continue
		}
		if i == 0 {
			if !r.Null() {
				b.Text = new(TextMessage)
				r.Strings(textFields, &b.Text.Content)
			}
			continue
		}
		if r.Null() {
			continue
		}
		raw := r.Raw()
		if r.Failed() {
			return
		}
		var err error
		switch i {
		case 1:
			b.Picture, err = decodeTo[MediaFile](raw)
		case 2:
			b.Video, err = decodeTo[MediaFile](raw)
		case 3:
			b.Audio, err = decodeTo[AudioMessage](raw)
		case 4:
			b.File, err = decodeTo[FileMessage](raw)
		case 5:
			b.FileList, err = decodeTo[FileListMessage](raw)
		case 6:
			b.Location, err = decodeTo[LocationMessage](raw)
		case 7:
			b.Contact, err = decodeTo[ContactMessage](raw)
		case 8:
			b.Suggestions, err = decodeTo[SuggestionsMessage](raw)
		case 9:
			b.Card, err = decodeTo[CardMessage](raw)
		case 10:
			b.CardCarousel, err = decodeTo[CardCarouselMessage](raw)
		}
		if err != nil {
			r.Fail()
		}
	}
	if unknown && !r.Failed() {
		b.keepUnknown(r.Bytes(start))
	}
}

// decodeTo decodes the span of a body message as json.Unmarshal decodes it
// within the request.
func decodeTo[T any](raw []byte) (*T, error) {
	v := new(T)
	return v, json.Unmarshal(raw, v)
}

// readContact reads the contact as Contact.UnmarshalJSON does, both
// spellings of channel_opt_status included.
func readContact(r *jsonx.Reader, c *Contact) {
	if r.Null() || !r.Object() {
		return
	}
	dst := [...]*string{&c.UUID, &c.CreatedDT, &c.UpdatedDT, &c.OptStatus, &c.OptStatusWebpush, &c.FirstName,
		&c.LastName, &c.SecondName, &c.NickName, &c.Gender, &c.Birthday, &c.Salutation, &c.Title, &c.Language,
		&c.Nationality, &c.Mobile, &c.Email, &c.Phone, &c.Fax, &c.Address, &c.Zip, &c.City, &c.Region, &c.Country,
		&c.BCompany, &c.BMobile, &c.BEmail, &c.BFax, &c.BPhone, &c.BAddress, &c.BZip, &c.BCity, &c.BRegion,
		&c.BCountry, &c.BJobTitle, &c.BDepartment, &c.BReceptionCode, &c.ListUUID, &c.ChannelNames,
		&c.ChannelOptStatus}
	var seen uint64
	var statuses string
	hasStatuses := false
	for r.More() {
		switch i := r.Field(contactFields, &seen); {
		case i == len(dst):
			statuses, hasStatuses = r.StringValue()
		case i >= 0:
			*dst[i] = r.String()
		}
	}
	if c.ChannelOptStatus == "" && hasStatuses {
		c.ChannelOptStatus = statuses
	}
}
