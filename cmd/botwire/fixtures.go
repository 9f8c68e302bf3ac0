package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// fixtureDescriptions has one line per built-in fixture, keyed
// "vendor/name": what the platform sends and where the body comes from.
// "doc example" is the vendor doc's own example (placeholders filled as
// testdata/<vendor>/README.md says); "built from the doc's field table" is
// a body composed from the doc's tables and example fragments, for an
// event the doc describes without a whole example (where the doc gives
// no value, the value is illustrative: a file name, a URL); "external" is a
// payload found outside the doc (specs/NOTES.md). A test keeps this table
// and the files of fixtures/ in step.
var fixtureDescriptions = map[string]string{
	// OneTalk: the inbound request envelope (caseID, channelType, sender,
	// message) around each InboundMessage example of the doc.
	"onetalk/inbound_request":                                 "WhatsApp BA button reply \"Talk to agent\" (id /agent) (doc example)",
	"onetalk/inbound_request_composed_from_docHEAD_fragments": "button reply with channelID, channelName, customerUserID, timestamp (external: composed from a later doc revision)",
	"onetalk/text":            "text \"Hello world\" (built from the doc's examples: request envelope + text message)",
	"onetalk/text_telegram":   "text on Telegram: no sender phone (built from the doc's field table)",
	"onetalk/image":           "image, empty caption (built from the doc's examples: request envelope + image message)",
	"onetalk/document":        "document Receipt.pdf (built from the doc's examples: request envelope + document message)",
	"onetalk/video":           "video, under the key \"image\" as the doc shows it (built from the doc's examples: request envelope + video message)",
	"onetalk/location":        "location -6.197, 106.761 (built from the doc's examples: request envelope + location message)",
	"onetalk/template_button": "WhatsApp BA template button \"Reschedule\" (payload reschedule) (built from the doc's examples: request envelope + button message)",
	"onetalk/list_reply":      "WhatsApp BA list reply \"More options\" (id \"/agent 0\") (built from the doc's field table and list_reply example)",
	"onetalk/flow_reply":      "WhatsApp BA flow answer (nfm_reply) (built from a later doc revision's nfm_reply example)",

	// Easy Dialog: the doc's inbound request example with each body type
	// of its Message table.
	"easydialog/request_example":          "Viber text \"Hi\" from John Doe (doc example)",
	"easydialog/request_schema_datamodel": "text, every field \"string\" (doc example: the RequestBody data model)",
	"easydialog/request_schema_method":    "text, every field \"string\" (doc example: the custom-bot-api method)",
	"easydialog/picture":                  "picture with thumbnail (built from the doc's PictureMessage field table)",
	"easydialog/video":                    "video clip.mp4 (built from the doc's VideoMessage field table)",
	"easydialog/audio":                    "audio voice.ogg (built from the doc's AudioMessage field table)",
	"easydialog/file":                     "file Receipt.pdf (built from the doc's FileMessage field table)",
	"easydialog/file_list":                "two files with a text (built from the doc's FileListMessage field table and example)",
	"easydialog/location":                 "location Apple Park (built from the doc's LocationMessage field table and example)",
	"easydialog/contact":                  "contact card Jane Roe (built from the doc's ContactMessage field table)",

	// Userlike: the webhook protocol example's info around each packet.
	"userlike/webhook_event_start":                 "start on the website, empty payload (doc example)",
	"userlike/webhook_event_channel_detection":     "start on WhatsApp Business: info.conversation.contact_channel (doc example)",
	"userlike/start_with_message":                  "start on WhatsApp carrying the first message \"start\" (built from the doc's text and samples)",
	"userlike/message":                             "message \"talk to support\" (built from the doc's protocol example and its sample bot)",
	"userlike/click":                               "click on option id \"start\" of a button template (built from the doc's sample bot)",
	"userlike/forward_failed":                      "forward_failed: no operator was available, no payload (built from the doc's event list)",
	"userlike/inbound_message_aliz-ai_hello":       "message \"Hello, I have a question ...\" (external: aliz-ai test data)",
	"userlike/inbound_message_aliz-ai_card_number": "message \"1234\", a card number (external: aliz-ai test data)",
	"userlike/inbound_message_aliz-ai_no_thanks":   "message \"No thanks\" (external: aliz-ai test data)",

	// Ultimate: chat webhook (sendMessage, escalate, isTeamOnline, widget
	// events) and actions webhook.
	"ultimate/webhook_sendMessage_text":                         "chat: sendMessage, text only (doc example)",
	"ultimate/webhook_sendMessage_buttons":                      "chat: sendMessage with buttons YES / NO (doc example)",
	"ultimate/webhook_sendMessage_three_buttons":                "chat: sendMessage with three buttons, no eventType (doc example: \"clicking a button\")",
	"ultimate/webhook_sendMessage_carousel":                     "chat: sendMessage, carousel of two cards (doc example)",
	"ultimate/webhook_sendMessage_carousel_two_cards":           "chat: sendMessage, carousel (doc example: \"clicking a carousel card\")",
	"ultimate/webhook_escalate":                                 "chat: escalate, every field \"string\" (doc example)",
	"ultimate/webhook_escalate_zendesk-doc":                     "chat: escalate to team_123 (external: Zendesk AI agents doc)",
	"ultimate/webhook_isTeamOnline":                             "chat: isTeamOnline, every field \"string\" (doc example)",
	"ultimate/webhook_isTeamOnline_zendesk-doc":                 "chat: isTeamOnline for team_abc (external: Zendesk AI agents doc)",
	"ultimate/webhook_widgetEscalate_zendesk-doc":               "chat: widgetEscalate, chat widget only (external: Zendesk AI agents doc)",
	"ultimate/webhook_converse_widgetMessage_template-postman":  "chat: widgetMessage, chat widget only (external: Ultimate's postman template)",
	"ultimate/webhook_action":                                   "actions: an action, every field \"string\" (doc example; send to --actions URL)",
	"ultimate/webhook_action_developer-ultimate-doc_commafixed": "actions: updateCustomerBalance with saveAs (external: developer.ultimate.ai)",
	"ultimate/webhook_action_template-postman":                  "actions: updateUserBalanace, sanitize flag (external: Ultimate's postman template)",

	// Botcopy: the live chat endpoint webhook, step one and step two.
	"botcopy/webhook_step_one":                          "step one: trigger context detected, with messageHistory (doc example)",
	"botcopy/webhook_step_two":                          "step two: the paused bot's user writes a message (doc example)",
	"botcopy/webhook_step1_trigger_legacy-2023-02":      "step one: trigger \"handover\" (external: the 2023 doc revision)",
	"botcopy/webhook_step2_user_message_legacy-2023-02": "step two: user message \"help me please\" (external: the 2023 doc revision)",
}

// listFixtures writes vendor's fixtures as aligned "name  description"
// lines.
func listFixtures(w io.Writer, vendor string) {
	names := fixtureNames(vendor)
	width := 0
	for _, n := range names {
		width = max(width, len(n))
	}
	for _, n := range names {
		fmt.Fprintf(w, "%-*s  %s\n", width, n, fixtureDescriptions[vendor+"/"+n])
	}
}

// override is one --set path=value.
type override struct {
	arg   string    // as given, for errors
	path  []segment // where
	value []byte    // compact JSON
}

// segment is one step of an override's path: an object key, or an array
// index when isIndex.
type segment struct {
	key     string
	index   int
	isIndex bool
}

// sets collects the repeatable --set flag; parseSets checks them after
// the flags are parsed, so a bad one is one clear line.
type sets []string

func (s *sets) String() string { return "" }

// Set records one path=value.
func (s *sets) Set(arg string) error {
	*s = append(*s, arg)
	return nil
}

// parseSets parses each path=value: the value is JSON when it is valid
// JSON (a number, true, null, an object, a "quoted string"), else the
// string as written.
func parseSets(args sets) ([]override, error) {
	var out []override
	for _, arg := range args {
		p, v, ok := strings.Cut(arg, "=")
		if !ok {
			return nil, fmt.Errorf("--set %q: want path=value, e.g. message.text.body=hi", arg)
		}
		path, err := parsePath(p)
		if err != nil {
			return nil, fmt.Errorf("--set %q: %v", arg, err)
		}
		var value []byte
		if json.Valid([]byte(v)) {
			var buf bytes.Buffer
			_ = json.Compact(&buf, []byte(v))
			value = buf.Bytes()
		} else {
			value, _ = json.Marshal(v)
		}
		out = append(out, override{arg: arg, path: path, value: value})
	}
	return out, nil
}

// parsePath reads a.b[0].c: keys separated by dots, [n] indexes after a
// key or at the start.
func parsePath(p string) ([]segment, error) {
	if p == "" {
		return nil, fmt.Errorf("empty path")
	}
	var out []segment
	for i := 0; i < len(p); {
		switch {
		case p[i] == '[':
			j := strings.IndexByte(p[i:], ']')
			if j < 0 {
				return nil, fmt.Errorf("path %s: [ without ]", p)
			}
			n, err := strconv.Atoi(p[i+1 : i+j])
			if err != nil || n < 0 {
				return nil, fmt.Errorf("path %s: index %q is not a number >= 0", p, p[i+1:i+j])
			}
			out = append(out, segment{index: n, isIndex: true})
			i += j + 1
		case p[i] == '.':
			if i == 0 || i == len(p)-1 || p[i+1] == '.' || p[i+1] == '[' {
				return nil, fmt.Errorf("path %s: a dot must sit between two keys", p)
			}
			i++
		default:
			j := strings.IndexAny(p[i:], ".[")
			if j < 0 {
				j = len(p) - i
			}
			if strings.Contains(p[i:i+j], "]") {
				return nil, fmt.Errorf("path %s: ] without [", p)
			}
			if i > 0 && p[i-1] != '.' {
				return nil, fmt.Errorf("path %s: a key after an index needs a dot (a[0].b)", p)
			}
			out = append(out, segment{key: p[i : i+j]})
			i += j
		}
	}
	return out, nil
}

// pathString writes segs back as a path, for errors.
func pathString(segs []segment) string {
	var b strings.Builder
	for i, s := range segs {
		if s.isIndex {
			fmt.Fprintf(&b, "[%d]", s.index)
			continue
		}
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(s.key)
	}
	if b.Len() == 0 {
		return "the body"
	}
	return b.String()
}

// apply returns body with o's value at o's path. Every other byte is kept:
// the key order, the spacing, numbers as they were written. A missing last
// key of an existing object is added after its last member, indented as
// that member; any other missing step is an error naming it.
func (o override) apply(body []byte) ([]byte, error) {
	i := skipSpace(body, 0)
	for n, seg := range o.path {
		last := n == len(o.path)-1
		at := pathString(o.path[:n])
		if seg.isIndex {
			if i >= len(body) || body[i] != '[' {
				return nil, fmt.Errorf("--set %s: %s is %s, not an array", o.arg, at, kind(body, i))
			}
			elems, err := arrayElems(body, i)
			if err != nil {
				return nil, err
			}
			if seg.index >= len(elems) {
				return nil, fmt.Errorf("--set %s: %s has %d elements, no index %d", o.arg, at, len(elems), seg.index)
			}
			i = elems[seg.index]
			continue
		}
		if i >= len(body) || body[i] != '{' {
			return nil, fmt.Errorf("--set %s: %s is %s, not an object", o.arg, at, kind(body, i))
		}
		members, err := objectMembers(body, i)
		if err != nil {
			return nil, err
		}
		found := -1
		for _, m := range members {
			if m.key == seg.key {
				found = m.value // the last of duplicate keys, as decoders read it
			}
		}
		if found >= 0 {
			i = found
			continue
		}
		if !last {
			return nil, fmt.Errorf("--set %s: %s does not exist (only the last key of a path may be new)", o.arg, pathString(o.path[:n+1]))
		}
		key, _ := json.Marshal(seg.key)
		if len(members) == 0 {
			end := skipSpace(body, i+1) // the closing brace
			return splice(body, end, end, append(append(key, ':'), o.value...)), nil
		}
		// After the last member, with the separator and spacing of the
		// members before.
		m := members[len(members)-1]
		sep := []byte(",")
		if len(members) > 1 {
			prev := members[len(members)-2]
			sep = body[prev.end:m.keyStart]
		} else if lead := body[i+1 : m.keyStart]; len(lead) > 0 {
			sep = append([]byte(","), lead...)
		}
		colon := body[m.keyEnd:m.value] // ":" and its spacing
		ins := append(append(append(append([]byte{}, sep...), key...), colon...), o.value...)
		return splice(body, m.end, m.end, ins), nil
	}
	end, err := valueEnd(body, i)
	if err != nil {
		return nil, err
	}
	return splice(body, i, end, o.value), nil
}

// splice returns b with b[from:to] replaced by with.
func splice(b []byte, from, to int, with []byte) []byte {
	out := make([]byte, 0, len(b)-(to-from)+len(with))
	out = append(out, b[:from]...)
	out = append(out, with...)
	return append(out, b[to:]...)
}

// kind names the JSON value at b[i], for errors.
func kind(b []byte, i int) string {
	if i >= len(b) {
		return "nothing"
	}
	switch b[i] {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

// member is an object member's offsets in the body: its key string,
// its value's start, and the value's end.
type member struct {
	key              string
	keyStart, keyEnd int
	value, end       int
}

// objectMembers reads the members of the object at b[i] ('{').
func objectMembers(b []byte, i int) ([]member, error) {
	var out []member
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return nil, nil
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return nil, errBadJSON
		}
		ke, err := stringEnd(b, i)
		if err != nil {
			return nil, err
		}
		var key string
		if err := json.Unmarshal(b[i:ke], &key); err != nil {
			return nil, errBadJSON
		}
		c := skipSpace(b, ke)
		if c >= len(b) || b[c] != ':' {
			return nil, errBadJSON
		}
		v := skipSpace(b, c+1)
		ve, err := valueEnd(b, v)
		if err != nil {
			return nil, err
		}
		out = append(out, member{key: key, keyStart: i, keyEnd: ke, value: v, end: ve})
		i = skipSpace(b, ve)
		if i < len(b) && b[i] == '}' {
			return out, nil
		}
		if i >= len(b) || b[i] != ',' {
			return nil, errBadJSON
		}
		i = skipSpace(b, i+1)
	}
}

// arrayElems returns the start of each element of the array at b[i] ('[').
func arrayElems(b []byte, i int) ([]int, error) {
	var out []int
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == ']' {
		return nil, nil
	}
	for {
		e, err := valueEnd(b, i)
		if err != nil {
			return nil, err
		}
		out = append(out, i)
		i = skipSpace(b, e)
		if i < len(b) && b[i] == ']' {
			return out, nil
		}
		if i >= len(b) || b[i] != ',' {
			return nil, errBadJSON
		}
		i = skipSpace(b, i+1)
	}
}

// errBadJSON is not expected: bodies are checked with json.Valid first.
var errBadJSON = errors.New("the body is not valid JSON")

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// stringEnd returns the offset after the string at b[i] ('"').
func stringEnd(b []byte, i int) (int, error) {
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j + 1, nil
		}
	}
	return 0, errBadJSON
}

// valueEnd returns the offset after the value at b[i].
func valueEnd(b []byte, i int) (int, error) {
	if i >= len(b) {
		return 0, errBadJSON
	}
	switch b[i] {
	case '"':
		return stringEnd(b, i)
	case '{':
		m, err := objectMembers(b, i)
		if err != nil {
			return 0, err
		}
		end := skipSpace(b, i+1)
		if len(m) > 0 {
			end = skipSpace(b, m[len(m)-1].end)
		}
		return end + 1, nil
	case '[':
		e, err := arrayElems(b, i)
		if err != nil {
			return 0, err
		}
		end := skipSpace(b, i+1)
		if len(e) > 0 {
			last, err := valueEnd(b, e[len(e)-1])
			if err != nil {
				return 0, err
			}
			end = skipSpace(b, last)
		}
		return end + 1, nil
	}
	j := i
	for j < len(b) && !strings.ContainsRune(",]} \t\r\n", rune(b[j])) {
		j++
	}
	if j == i {
		return 0, errBadJSON
	}
	return j, nil
}

// applySets applies every override in order, and returns the body and a
// note for the source line ("--set a, --set b").
func applySets(body []byte, list []override) ([]byte, string, error) {
	var notes []string
	for _, o := range list {
		var err error
		if body, err = o.apply(body); err != nil {
			return nil, "", err
		}
		notes = append(notes, "--set "+pathString(o.path))
	}
	return body, strings.Join(notes, ", "), nil
}
