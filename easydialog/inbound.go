package easydialog

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strings"
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
	offset := func() (*time.Location, bool) {
		m := offsetRE.FindStringSubmatch(tz)
		if m == nil {
			return nil, false
		}
		secs := (int(m[2][0]-'0')*10+int(m[2][1]-'0'))*3600 + (int(m[3][0]-'0')*10+int(m[3][1]-'0'))*60
		if m[1] == "-" {
			secs = -secs
		}
		return time.FixedZone(tz, secs), true
	}
	abbr := func() (*time.Location, bool) {
		secs, ok := abbreviations[strings.ToUpper(tz)]
		if !ok {
			return nil, false
		}
		return time.FixedZone(strings.ToUpper(tz), secs), true
	}
	ident := func() (*time.Location, bool) {
		loc, err := time.LoadLocation(tz)
		return loc, err == nil
	}
	var order []func() (*time.Location, bool)
	switch ts.TimezoneType {
	case 1:
		order = append(order, offset)
	case 2:
		order = append(order, abbr)
	case 3:
		order = append(order, ident)
	}
	order = append(order, offset, abbr, ident) // tolerate a wrong or 0 type
	if tz == "" {
		return time.UTC, nil
	}
	for _, try := range order {
		if loc, ok := try(); ok {
			return loc, nil
		}
	}
	return nil, fmt.Errorf("easydialog: unknown timezone %q (timezone_type %d)", tz, ts.TimezoneType)
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
	req, err := decodeRequest(data)
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
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
