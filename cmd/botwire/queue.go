package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"github.com/botwire/botwire/store"
	"github.com/botwire/botwire/store/redisstore"
	"github.com/redis/go-redis/v9"
)

func init() {
	moreVerbs["queue"] = verb{
		usage: "  botwire queue stats|dead|show --redis URL         inspect the Redis queue the bot's replicas share\n" +
			"  botwire queue replay|delete|pause|resume ...      act on its dead letters and its consumers",
		run: runQueue,
	}
}

const queueHelp = `Usage: botwire queue <subverb> --redis URL [flags]

Inspects and acts on the durable queue (store/redisstore) the replicas of a
bot share, in the Redis they use. Every replica sees what the command
changes at once.

Subverbs:
  stats                     pending, running, retrying and dead messages, the
                            oldest one's age, and whether the queue is paused
  dead [--limit N] [--cursor C] [--payload]
                            list the dead letters, a page at a time
  show ID                   one message (pending or dead) with its payload and header
  replay ID|--all           put a dead letter (or every one) back in the queue
  delete ID|--all --yes     remove a dead letter (or every one)
  pause                     stop every consumer, in every replica, from taking a message
  resume                    let them take messages again

The Redis is --redis URL (redis://[:password@]host:port/db, rediss:// for
TLS) or, without it, $BOTWIRE_REDIS_URL; --cluster for a Redis Cluster
(redis://[:password@]host:port?addr=host2:port2). --prefix and --partitions
must be the redisstore.Options the bot uses (their defaults are the
store's). The URL's password is never printed. Run "botwire queue <subverb> --help" for a
subverb's flags and an example.

Example:
  botwire queue stats --redis redis://:s3cr3t@localhost:6379/0 --prefix mybot
  export BOTWIRE_REDIS_URL=redis://:s3cr3t@localhost:6379/0
  botwire queue dead --prefix mybot --limit 20
  botwire queue replay --prefix mybot --all
`

// queueSub is one subverb of queue: its help and what it does.
type queueSub struct {
	help string
	run  func(c *queueCmd, args []string) error
}

var queueSubs = map[string]queueSub{
	"stats": {`Usage: botwire queue stats --redis URL [flags]

Prints the queue's counts: pending (waiting for a consumer), running (held
by a consumer, including the messages it read ahead), retrying (failed,
waiting for their retry delay), dead (dead letters), the age of the oldest
message not yet acknowledged, and whether the queue is paused. --json
prints one JSON object (oldest_pending_seconds is a number of seconds).

Example:
  botwire queue stats --redis redis://:s3cr3t@localhost:6379/0 --prefix mybot
  botwire queue stats --prefix mybot --json

Flags:
`, queueStats},
	"dead": {`Usage: botwire queue dead --redis URL [--limit N] [--cursor C] [--payload] [flags]

Lists the dead letters, oldest first, one a line: id, key, attempts, enqueue
time (UTC) and last error, tab-separated; --payload adds each payload. When
more remain, the last line is "next: C": pass it as --cursor for the next
page. --json prints {"messages": [...], "next": "C"}.

Example:
  botwire queue dead --prefix mybot --limit 20
  botwire queue dead --prefix mybot --limit 20 --cursor 3:1733150000000-0

Flags:
`, queueDead},
	"show": {`Usage: botwire queue show ID --redis URL [flags]

Prints one message, pending or dead: its id, key, attempts, enqueue time,
last error, header and payload (indented when it is JSON; base64 when it is
not text). --json prints the message as one JSON object.

Example:
  botwire queue show 3:1733150000000-0 --prefix mybot

Flags:
`, queueShow},
	"replay": {`Usage: botwire queue replay ID|--all --redis URL [flags]

Puts the dead letter ID (or, with --all, every dead letter) back at the end
of its key's messages, with a new id, its header and its first enqueue
time; a consumer runs it again.

Example:
  botwire queue replay 3:1733150000000-0 --prefix mybot
  botwire queue replay --all --prefix mybot

Flags:
`, queueReplay},
	"delete": {`Usage: botwire queue delete ID|--all --yes --redis URL [flags]

Removes the dead letter ID for good, or, with --all and --yes, every dead
letter.

Example:
  botwire queue delete 3:1733150000000-0 --prefix mybot
  botwire queue delete --all --yes --prefix mybot

Flags:
`, queueDelete},
	"pause": {`Usage: botwire queue pause --redis URL [flags]

Stops every consumer of the queue, in every replica, from taking a message;
the messages running go on, and the bot keeps enqueueing. "botwire queue
resume" undoes it.

Example:
  botwire queue pause --prefix mybot

Flags:
`, queuePause},
	"resume": {`Usage: botwire queue resume --redis URL [flags]

Lets the consumers of a paused queue take messages again.

Example:
  botwire queue resume --prefix mybot

Flags:
`, queueResume},
}

// queueCmd is one run of a queue subverb: its flags, streams and the
// connection to the queue.
type queueCmd struct {
	fs             *flag.FlagSet
	stdout, stderr io.Writer

	redisURL   string
	prefix     string
	partitions int
	cluster    bool
	timeout    time.Duration
	jsonOut    bool

	secrets []string // the URL's password, raw and percent-encoded
}

func runQueue(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usageErr("queue needs a subverb: stats, dead, show, replay, delete, pause or resume (botwire queue --help)")
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, queueHelp)
		return errHelp
	}
	sub, ok := queueSubs[args[0]]
	if !ok && strings.HasPrefix(args[0], "-") {
		return usageErr("queue takes its subverb first: botwire queue <stats|dead|show|replay|delete|pause|resume> [flags] (botwire queue --help)")
	}
	if !ok {
		return usageErr("unknown queue subverb %q (want stats, dead, show, replay, delete, pause or resume)", maskUserinfo(args[0]))
	}
	c := &queueCmd{stdout: stdout, stderr: stderr}
	// The flag package prints its errors itself: through the mask too.
	c.fs = newFlags("queue "+args[0], stdout, maskWriter{c, stderr}, sub.help)
	// go-redis logs some failures (a dial that failed) on its own: the
	// command reports its errors itself, masked.
	redis.SetLogger(quietLogger{})
	err := sub.run(c, args[1:])
	var u errUsage
	switch {
	case err == nil, errors.Is(err, errHelp):
		return err
	case errors.As(err, &u):
		return errUsage{c.mask(u.msg)}
	default:
		return errors.New(c.mask(err.Error()))
	}
}

// maskWriter writes to w with the Redis password masked.
type maskWriter struct {
	c *queueCmd
	w io.Writer
}

func (m maskWriter) Write(p []byte) (int, error) {
	if _, err := io.WriteString(m.w, m.c.mask(string(p))); err != nil {
		return 0, err
	}
	return len(p), nil
}

// quietLogger drops go-redis's own log lines.
type quietLogger struct{}

func (quietLogger) Printf(context.Context, string, ...any) {}

// flags declares the flags every subverb has.
func (c *queueCmd) flags() {
	c.fs.StringVar(&c.redisURL, "redis", "", "the Redis URL, redis://[:password@]host:port/db or rediss:// (default $BOTWIRE_REDIS_URL)")
	c.fs.StringVar(&c.prefix, "prefix", "botwire", "the bot's redisstore.Options.Prefix")
	c.fs.IntVar(&c.partitions, "partitions", 16, "the bot's redisstore.Options.Partitions")
	c.fs.BoolVar(&c.cluster, "cluster", false, "the Redis is a Cluster: --redis names one node, or several with ?addr=host:port&addr=...")
	c.fs.DurationVar(&c.timeout, "timeout", 5*time.Second, "how long to wait for Redis (connecting: at most 3 s)")
	c.fs.BoolVar(&c.jsonOut, "json", false, "print JSON")
}

// parse parses the subverb's flags and checks the common ones. It keeps
// the URL's password out of what the flag package prints.
func (c *queueCmd) parse(args []string) ([]string, error) {
	for _, a := range args {
		c.addSecrets(a)
	}
	if env := os.Getenv("BOTWIRE_REDIS_URL"); env != "" {
		c.addSecrets(env)
	}
	pos, err := parse(c.fs, args)
	if err != nil {
		return nil, err
	}
	if c.redisURL == "" {
		c.redisURL = os.Getenv("BOTWIRE_REDIS_URL")
	}
	if c.redisURL == "" {
		return nil, usageErr("queue %s needs --redis URL (or $BOTWIRE_REDIS_URL): redis://[:password@]host:port/db", c.name())
	}
	if c.partitions <= 0 {
		return nil, usageErr("--partitions must be positive, not %d", c.partitions)
	}
	if c.timeout <= 0 {
		return nil, usageErr("--timeout must be positive, not %s", c.timeout)
	}
	if c.prefix == "" {
		return nil, usageErr("--prefix must not be empty")
	}
	return pos, nil
}

func (c *queueCmd) name() string { return strings.TrimPrefix(c.fs.Name(), "botwire queue ") }

// userinfo finds the userinfo of a URL, even one url.Parse refuses (up
// to the authority's last @). A match that starts with [ is the usage's
// "redis://[:password@]host", not a URL.
var userinfo = regexp.MustCompile(`://([^/?#\s]*)@`)

// addSecrets records the password of s, if s holds a URL with one.
func (c *queueCmd) addSecrets(s string) {
	for _, m := range userinfo.FindAllStringSubmatch(s, -1) {
		info := m[1]
		if strings.HasPrefix(info, "[") {
			continue
		}
		_, pass, ok := strings.Cut(info, ":")
		if !ok { // redis://password@host: go-redis reads a lone user as the password
			pass = info
		}
		if pass == "" {
			continue
		}
		c.secrets = append(c.secrets, pass)
		if dec, err := url.PathUnescape(pass); err == nil && dec != pass {
			c.secrets = append(c.secrets, dec)
		}
	}
}

// mask removes the Redis password from s: any URL's userinfo, and the
// password wherever else it shows (an error quoting it, decoded or not).
func (c *queueCmd) mask(s string) string {
	s = maskUserinfo(s)
	secrets := slices.Clone(c.secrets)
	slices.SortFunc(secrets, func(x, y string) int { return len(y) - len(x) })
	for _, p := range secrets {
		if len(p) < minRedact {
			continue
		}
		s = strings.ReplaceAll(s, p, "xxxxx")
		if j, err := json.Marshal(p); err == nil {
			s = strings.ReplaceAll(s, string(j[1:len(j)-1]), "xxxxx")
		}
	}
	return s
}

// maskUserinfo replaces the password of every URL in s with xxxxx.
func maskUserinfo(s string) string {
	return userinfo.ReplaceAllStringFunc(s, func(m string) string {
		info := m[3 : len(m)-1]
		if strings.HasPrefix(info, "[") {
			return m
		}
		if user, _, ok := strings.Cut(info, ":"); ok {
			return "://" + user + ":xxxxx@"
		}
		return "://xxxxx@"
	})
}

// adminQueue is what the verbs use of the Redis queue: store.QueueAdmin and
// the Queue's Replay.
type adminQueue interface {
	store.Queue
	store.QueueAdmin
}

// open connects to the Redis of --redis and returns its queue. The URL's
// own dial_timeout, read_timeout, write_timeout and max_retries win over
// the command's.
func (c *queueCmd) open() (adminQueue, func(), error) {
	var rdb redis.UniversalClient
	dial := min(3*time.Second, c.timeout)
	if c.cluster {
		opt, err := redis.ParseClusterURL(c.redisURL)
		if err != nil {
			return nil, nil, usageErr("--redis %s: %v", maskUserinfo(c.redisURL), err)
		}
		opt.DialTimeout = cmp.Or(opt.DialTimeout, dial)
		opt.ReadTimeout = cmp.Or(opt.ReadTimeout, c.timeout)
		opt.WriteTimeout = cmp.Or(opt.WriteTimeout, c.timeout)
		opt.MaxRetries = cmp.Or(opt.MaxRetries, -1)
		opt.DialerRetries = cmp.Or(opt.DialerRetries, 1)
		opt.PoolSize = cmp.Or(opt.PoolSize, 4)
		rdb = redis.NewClusterClient(opt)
	} else {
		opt, err := redis.ParseURL(c.redisURL)
		if err != nil {
			return nil, nil, usageErr("--redis %s: %v", maskUserinfo(c.redisURL), err)
		}
		opt.DialTimeout = cmp.Or(opt.DialTimeout, dial)
		opt.ReadTimeout = cmp.Or(opt.ReadTimeout, c.timeout)
		opt.WriteTimeout = cmp.Or(opt.WriteTimeout, c.timeout)
		opt.MaxRetries = cmp.Or(opt.MaxRetries, -1)
		opt.DialerRetries = cmp.Or(opt.DialerRetries, 1)
		opt.PoolSize = cmp.Or(opt.PoolSize, 4)
		rdb = redis.NewClient(opt)
	}
	s := redisstore.New(rdb, redisstore.Options{Prefix: c.prefix, Partitions: c.partitions})
	q, ok := any(s).(adminQueue)
	if !ok {
		rdb.Close()
		return nil, nil, errors.New("this build's redisstore does not implement store.QueueAdmin")
	}
	return q, func() { rdb.Close() }, nil
}

// do runs f on the queue under --timeout, and names the Redis in its error.
func (c *queueCmd) do(f func(ctx context.Context, q adminQueue) error) error {
	q, closeFn, err := c.open()
	if err != nil {
		return err
	}
	defer closeFn()
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	if err := f(ctx, q); err != nil {
		if errors.Is(err, store.ErrNotFound) || errors.As(err, new(errUsage)) || errors.As(err, new(notFound)) {
			return err
		}
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) {
			return fmt.Errorf("the Redis at %s did not answer within %s: %w", c.addr(), c.timeout, err)
		}
		return fmt.Errorf("the Redis at %s (queue %q): %w", c.addr(), c.prefix, err)
	}
	return nil
}

// notFound is the error of an ID the queue does not hold: it needs no
// Redis address.
type notFound string

func (e notFound) Error() string { return string(e) }

// addr is --redis without its password, for messages.
func (c *queueCmd) addr() string {
	if u, err := url.Parse(c.redisURL); err == nil {
		return u.Redacted()
	}
	return maskUserinfo(c.redisURL)
}

func (c *queueCmd) printJSON(v any) error {
	enc := json.NewEncoder(c.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// queueStatsJSON is the --json form of stats.
type queueStatsJSON struct {
	Pending       int     `json:"pending"`
	Running       int     `json:"running"`
	Retrying      int     `json:"retrying"`
	Dead          int     `json:"dead"`
	OldestPending float64 `json:"oldest_pending_seconds"`
	Paused        bool    `json:"paused"`
}

func queueStats(c *queueCmd, args []string) error {
	c.flags()
	pos, err := c.parse(args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return usageErr("queue stats takes no argument, not %q", pos[0])
	}
	return c.do(func(ctx context.Context, q adminQueue) error {
		st, err := q.Stats(ctx)
		if err != nil {
			return err
		}
		paused, err := q.Paused(ctx)
		if err != nil {
			return err
		}
		if c.jsonOut {
			return c.printJSON(queueStatsJSON{st.Pending, st.Running, st.Retrying, st.Dead, st.OldestPending.Seconds(), paused})
		}
		tw := tabwriter.NewWriter(c.stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintf(tw, "queue\t%s\n", c.prefix)
		fmt.Fprintf(tw, "pending\t%d\n", st.Pending)
		fmt.Fprintf(tw, "running\t%d\n", st.Running)
		fmt.Fprintf(tw, "retrying\t%d\n", st.Retrying)
		fmt.Fprintf(tw, "dead\t%d\n", st.Dead)
		fmt.Fprintf(tw, "oldest\t%s\n", st.OldestPending.Round(time.Millisecond))
		fmt.Fprintf(tw, "paused\t%t\n", paused)
		return tw.Flush()
	})
}

// messageJSON is the --json form of a message.
type messageJSON struct {
	ID       string            `json:"id"`
	Key      string            `json:"key"`
	Attempts int               `json:"attempts"`
	Enqueued time.Time         `json:"enqueued"`
	Err      string            `json:"error,omitempty"`
	Header   map[string]string `json:"header,omitempty"`
	Payload  json.RawMessage   `json:"payload,omitempty"`
	// PayloadBase64 holds a payload that is not JSON.
	PayloadBase64 []byte `json:"payload_base64,omitempty"`
}

func toJSON(m store.Message) messageJSON {
	out := messageJSON{ID: m.ID, Key: m.Key, Attempts: m.Attempts, Enqueued: m.Enqueued.UTC(), Err: m.Err, Header: m.Header}
	if len(m.Payload) > 0 {
		if json.Valid(m.Payload) {
			out.Payload = m.Payload
		} else {
			out.PayloadBase64 = m.Payload
		}
	}
	return out
}

// oneLine makes s fit on one line of a listing.
func oneLine(s string) string {
	return strings.NewReplacer("\r\n", `\n`, "\n", `\n`, "\r", `\r`, "\t", " ").Replace(s)
}

// payloadLine is a payload on one line: compact JSON, text, or base64.
func payloadLine(p []byte) string {
	var b bytes.Buffer
	if json.Valid(p) && json.Compact(&b, p) == nil {
		return b.String()
	}
	if utf8.Valid(p) {
		return oneLine(string(p))
	}
	return "base64:" + base64.StdEncoding.EncodeToString(p)
}

func queueDead(c *queueCmd, args []string) error {
	c.flags()
	limit := c.fs.Int("limit", 50, "at most this many dead letters (at most 1000)")
	cursor := c.fs.String("cursor", "", "the cursor a previous page printed (next: C)")
	payload := c.fs.Bool("payload", false, "print each payload")
	pos, err := c.parse(args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return usageErr("queue dead takes no argument, not %q (a page is --cursor C)", pos[0])
	}
	if *limit < 1 || *limit > 1000 {
		return usageErr("--limit must be 1 to 1000, not %d", *limit)
	}
	return c.do(func(ctx context.Context, q adminQueue) error {
		page, err := q.List(ctx, store.ListOptions{State: store.StateDead, Cursor: *cursor, Limit: *limit, Payload: *payload})
		if err != nil {
			return err
		}
		if c.jsonOut {
			out := struct {
				Messages []messageJSON `json:"messages"`
				Next     string        `json:"next"`
			}{Messages: []messageJSON{}, Next: page.Next}
			for _, m := range page.Messages {
				out.Messages = append(out.Messages, toJSON(m))
			}
			return c.printJSON(out)
		}
		if len(page.Messages) == 0 {
			_, err := fmt.Fprintf(c.stdout, "no dead letters in queue %q\n", c.prefix)
			return err
		}
		tw := tabwriter.NewWriter(c.stdout, 0, 0, 2, ' ', 0)
		head := "ID\tKEY\tATTEMPTS\tENQUEUED\tERROR"
		if *payload {
			head += "\tPAYLOAD"
		}
		fmt.Fprintln(tw, head)
		for _, m := range page.Messages {
			line := fmt.Sprintf("%s\t%s\t%d\t%s\t%s", m.ID, oneLine(m.Key), m.Attempts, m.Enqueued.UTC().Format(time.RFC3339), oneLine(m.Err))
			if *payload {
				line += "\t" + payloadLine(m.Payload)
			}
			fmt.Fprintln(tw, line)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		if page.Next != "" {
			fmt.Fprintf(c.stdout, "next: %s\n", page.Next)
		}
		return nil
	})
}

func queueShow(c *queueCmd, args []string) error {
	c.flags()
	pos, err := c.parse(args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageErr("queue show needs one message ID (botwire queue show --help)")
	}
	id := pos[0]
	return c.do(func(ctx context.Context, q adminQueue) error {
		m, err := q.Message(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			return notFound(fmt.Sprintf("no message %q in queue %q", id, c.prefix))
		}
		if err != nil {
			return err
		}
		if c.jsonOut {
			return c.printJSON(toJSON(m))
		}
		tw := tabwriter.NewWriter(c.stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintf(tw, "id\t%s\n", m.ID)
		fmt.Fprintf(tw, "key\t%s\n", oneLine(m.Key))
		fmt.Fprintf(tw, "attempts\t%d\n", m.Attempts)
		fmt.Fprintf(tw, "enqueued\t%s\n", m.Enqueued.UTC().Format(time.RFC3339Nano))
		if m.Err != "" {
			fmt.Fprintf(tw, "error\t%s\n", oneLine(m.Err))
		}
		for _, k := range slices.Sorted(maps.Keys(m.Header)) {
			fmt.Fprintf(tw, "header\t%s: %s\n", oneLine(k), oneLine(m.Header[k]))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "payload (%d bytes):\n", len(m.Payload))
		var b bytes.Buffer
		switch {
		case len(m.Payload) == 0:
		case json.Valid(m.Payload) && json.Indent(&b, m.Payload, "", "  ") == nil:
			fmt.Fprintln(c.stdout, b.String())
		case utf8.Valid(m.Payload):
			fmt.Fprintln(c.stdout, strings.TrimRight(string(m.Payload), "\n"))
		default:
			fmt.Fprintf(c.stdout, "base64:%s\n", base64.StdEncoding.EncodeToString(m.Payload))
		}
		return nil
	})
}

// oneOrAll reads the argument of replay and delete: one ID or --all.
func (c *queueCmd) oneOrAll(pos []string, all bool) (string, error) {
	switch {
	case all && len(pos) > 0:
		return "", usageErr("queue %s takes an ID or --all, not both", c.name())
	case all:
		return "", nil
	case len(pos) != 1:
		return "", usageErr("queue %s needs one dead letter ID, or --all (botwire queue %s --help)", c.name(), c.name())
	}
	return pos[0], nil
}

func queueReplay(c *queueCmd, args []string) error {
	c.flags()
	all := c.fs.Bool("all", false, "replay every dead letter")
	pos, err := c.parse(args)
	if err != nil {
		return err
	}
	id, err := c.oneOrAll(pos, *all)
	if err != nil {
		return err
	}
	return c.do(func(ctx context.Context, q adminQueue) error {
		if *all {
			n, err := q.ReplayAll(ctx)
			if err != nil {
				return err
			}
			return c.report(map[string]any{"replayed": n}, "replayed %d dead letter(s) of queue %q", n, c.prefix)
		}
		err := q.Replay(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			return notFound(fmt.Sprintf("no dead letter %q in queue %q", id, c.prefix))
		}
		if err != nil {
			return err
		}
		return c.report(map[string]any{"replayed": 1, "id": id}, "replayed dead letter %s of queue %q", id, c.prefix)
	})
}

func queueDelete(c *queueCmd, args []string) error {
	c.flags()
	all := c.fs.Bool("all", false, "delete every dead letter (needs --yes)")
	yes := c.fs.Bool("yes", false, "confirm --all")
	pos, err := c.parse(args)
	if err != nil {
		return err
	}
	id, err := c.oneOrAll(pos, *all)
	if err != nil {
		return err
	}
	if *all && !*yes {
		return usageErr("queue delete --all removes every dead letter of queue %q for good: add --yes", c.prefix)
	}
	return c.do(func(ctx context.Context, q adminQueue) error {
		if *all {
			n, err := q.DeleteAllDead(ctx)
			if err != nil {
				return err
			}
			return c.report(map[string]any{"deleted": n}, "deleted %d dead letter(s) of queue %q", n, c.prefix)
		}
		err := q.DeleteDead(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			return notFound(fmt.Sprintf("no dead letter %q in queue %q", id, c.prefix))
		}
		if err != nil {
			return err
		}
		return c.report(map[string]any{"deleted": 1, "id": id}, "deleted dead letter %s of queue %q", id, c.prefix)
	})
}

func queuePause(c *queueCmd, args []string) error {
	return c.pauseResume(args, true)
}

func queueResume(c *queueCmd, args []string) error {
	return c.pauseResume(args, false)
}

func (c *queueCmd) pauseResume(args []string, pause bool) error {
	c.flags()
	pos, err := c.parse(args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return usageErr("queue %s takes no argument, not %q", c.name(), pos[0])
	}
	return c.do(func(ctx context.Context, q adminQueue) error {
		if pause {
			err = q.Pause(ctx)
		} else {
			err = q.Resume(ctx)
		}
		if err != nil {
			return err
		}
		paused, err := q.Paused(ctx)
		if err != nil {
			return err
		}
		state := "resumed: its consumers take messages"
		if paused {
			state = "paused: no consumer takes a message"
		}
		return c.report(map[string]any{"paused": paused}, "queue %q %s", c.prefix, state)
	})
}

// report prints what a subverb did: v with --json, else the sentence.
func (c *queueCmd) report(v any, format string, args ...any) error {
	if c.jsonOut {
		return c.printJSON(v)
	}
	_, err := fmt.Fprintf(c.stdout, format+"\n", args...)
	return err
}
