package easydialog

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/botwire/botwire/internal/golden"
)

func vector(t testing.TB) (body []byte, key, sig string) {
	t.Helper()
	return golden.Read(t, "easydialog/signed/request_php.json"),
		string(golden.Read(t, "easydialog/signed/key.txt")),
		string(golden.Read(t, "easydialog/signed/signature.txt"))
}

func TestSignatureVectorFromOpenSSL(t *testing.T) {
	body, key, sig := vector(t)
	require.True(t, bytes.Contains(body, []byte(`\/`)), "the vector must contain PHP's \\/ escapes")
	assert.Equal(t, sig, Sign(body, key))
	assert.NoError(t, VerifySignature(body, sig, key))
	// Padding-free base64 is accepted too.
	assert.NoError(t, VerifySignature(body, strings.TrimRight(sig, "="), key))

	// Re-encoding the JSON (as a Go server would) changes the bytes and so
	// the signature: verification must use the raw body.
	req, err := ParseRequest(body)
	require.NoError(t, err)
	reencoded, _ := json.Marshal(req)
	assert.ErrorIs(t, VerifySignature(reencoded, sig, key), ErrInvalidSignature)
}

func TestVerifySignatureErrors(t *testing.T) {
	body, key, sig := vector(t)
	raw, _ := base64.StdEncoding.DecodeString(sig)
	tests := map[string]struct {
		body      []byte
		sig, key  string
		wantError error
	}{
		"wrong key":        {body, sig, key + "x", ErrInvalidSignature},
		"wrong body":       {append(bytes.Clone(body), ' '), sig, key, ErrInvalidSignature},
		"missing":          {body, "", key, ErrMissingSignature},
		"truncated":        {body, sig[:40], key, ErrInvalidSignature},
		"too long":         {body, sig + "AAAA", key, ErrInvalidSignature},
		"not base64":       {body, "!!!" + sig[3:], key, ErrInvalidSignature},
		"hex, not base64":  {body, fmt.Sprintf("%x", raw), key, ErrInvalidSignature},
		"huge header":      {body, strings.Repeat("A", 10000), key, ErrInvalidSignature},
		"empty key":        {body, sig, "", ErrNoKey},
		"sha256-sized mac": {body, base64.StdEncoding.EncodeToString(raw[:32]), key, ErrInvalidSignature},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			err := VerifySignature(tt.body, tt.sig, tt.key)
			assert.ErrorIs(t, err, tt.wantError)
			if err != nil && tt.key != "" {
				assert.NotContains(t, err.Error(), tt.key)
				assert.NotContains(t, err.Error(), sig)
			}
		})
	}
}

func signedPost(body []byte, key string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/easydialog", bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	if key != "" {
		r.Header.Set(SignatureHeader, Sign(body, key))
	}
	return r
}

func logger(buf *bytes.Buffer) *slog.Logger {
	if buf == nil {
		return slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return slog.New(slog.NewTextHandler(buf, nil))
}

func TestHandlerBehaviourTable(t *testing.T) {
	body, key, sig := vector(t)
	unknown := []byte(`{"dialogUuid":"d1","message":{"body":{"stickerMessage":{"id":1}}}}`)
	withSig := func(b []byte, s string) *http.Request {
		r := signedPost(b, "")
		r.Header.Set(SignatureHeader, s)
		return r
	}
	tests := []struct {
		name       string
		req        *http.Request
		reply      *Response
		cbErr      error
		maxBody    int64
		wantStatus int
		wantBody   string
		wantCalls  int
	}{
		{name: "GET is 405", req: httptest.NewRequest(http.MethodGet, "/", nil), wantStatus: 405},
		{name: "over the limit is 413", req: withSig(body, sig), maxBody: 100, wantStatus: 413},
		{name: "missing signature is 401", req: withSig(body, ""), wantStatus: 401},
		{name: "wrong signature is 401", req: withSig(body, Sign(body, "other")), wantStatus: 401},
		{name: "truncated signature is 401", req: withSig(body, sig[:20]), wantStatus: 401},
		{name: "non-base64 signature is 401", req: withSig(body, "%%%"), wantStatus: 401},
		{name: "signature of another body is 401", req: withSig(append(bytes.Clone(body), '\n'), sig), wantStatus: 401},
		{name: "malformed JSON is 400", req: signedPost([]byte(`{"message":`), key), wantStatus: 400},
		{name: "not an object is 400", req: signedPost([]byte(`[]`), key), wantStatus: 400},
		{name: "unknown body is 200 without callback", req: signedPost(unknown, key), wantStatus: 200, wantBody: `{"messages":[]}`},
		{name: "callback error is 500", req: withSig(body, sig), cbErr: errors.New("backend down"), wantStatus: 500, wantCalls: 1},
		{name: "invalid reply is 500", req: withSig(body, sig), reply: Reply(NewPictureMessage("", "")), wantStatus: 500, wantCalls: 1},
		{name: "nil reply is an empty list", req: withSig(body, sig), wantStatus: 200, wantBody: `{"messages":[]}`, wantCalls: 1},
		{name: "reply is written", req: withSig(body, sig), reply: Reply(NewTextMessage("Hello John Doe")), wantStatus: 200,
			wantBody: `{"messages":[{"body":{"textMessage":{"content":"Hello John Doe"}}}]}`, wantCalls: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := 0
			var logs bytes.Buffer
			opts := []Option{WithLogger(logger(&logs))}
			if tt.maxBody > 0 {
				opts = append(opts, WithMaxBodyBytes(tt.maxBody))
			}
			h, err := NewHandler(key, func(_ context.Context, r *Request) (*Response, error) {
				calls++
				assert.Equal(t, "d5f7d6dd-dc30-451d-a442-a920fdbd6704", r.DialogUUID)
				return tt.reply, tt.cbErr
			}, opts...)
			require.NoError(t, err)
			// The rows deliver the doc's signed example, sent on 2022-06-09.
			h.now = func() time.Time { return time.Date(2022, 6, 9, 12, 30, 0, 0, time.UTC) }
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, tt.req)
			assert.Equal(t, tt.wantStatus, rec.Code, rec.Body.String())
			assert.Equal(t, tt.wantCalls, calls)
			if tt.wantBody != "" {
				golden.JSONEq(t, []byte(tt.wantBody), rec.Body.Bytes())
				assert.Equal(t, "application/json", rec.Header().Get("Content-Type"))
			}
			if tt.wantStatus == 405 {
				assert.Equal(t, "POST", rec.Header().Get("Allow"))
			}
			for _, s := range []string{key, sig} {
				assert.NotContains(t, rec.Body.String(), s)
				assert.NotContains(t, logs.String(), s)
			}
		})
	}
}

func TestHandlerOnUnknownAndPanic(t *testing.T) {
	key := "k"
	var seen string
	h, err := NewHandler(key, func(context.Context, *Request) (*Response, error) { panic("boom") },
		WithLogger(logger(nil)),
		WithOnUnknown(func(_ context.Context, r *Request) (*Response, error) {
			seen = string(r.Message.Body.Unknown["stickerMessage"])
			return Reply(NewTextMessage("I cannot read stickers yet.")), nil
		}))
	require.NoError(t, err)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, signedPost([]byte(`{"message":{"body":{"stickerMessage":{"id":1}}}}`), key))
	assert.Equal(t, 200, rec.Code)
	assert.Equal(t, `{"id":1}`, seen)
	assert.Contains(t, rec.Body.String(), "stickers")

	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, signedPost([]byte(`{"message":{"body":{"textMessage":{"content":"hi"}}}}`), key))
	assert.Equal(t, 500, rec.Code, "a panicking callback is a 500, not a crash")
}

func TestNewHandlerFailsClosed(t *testing.T) {
	fn := func(context.Context, *Request) (*Response, error) { return nil, nil }
	_, err := NewHandler("", fn)
	assert.ErrorIs(t, err, ErrNoKey)
	_, err = NewHandler("k", nil)
	assert.Error(t, err)
	h, err := NewHandler("super-secret-key", fn)
	require.NoError(t, err)
	for _, f := range []string{"%v", "%+v", "%#v"} {
		assert.NotContains(t, fmt.Sprintf(f, h), "super-secret-key")
		assert.NotContains(t, fmt.Sprintf(f, *h), "super-secret-key")
	}
}

// The PHP shapes of item 4 used to answer 400 and lose the message.
func TestHandlerReadsPHPNumbersAndLists(t *testing.T) {
	var got *Request
	h, err := NewHandler("k", func(_ context.Context, r *Request) (*Response, error) {
		got = r
		return Reply(NewTextMessage("ok")), nil
	}, WithLogger(logger(nil)))
	require.NoError(t, err)
	body := []byte(`{"dialogUuid":"d1","message":{"from":"41791234567","to":[41791234567],"providerMsgID":1,` +
		`"allowedChannels":{"1":"viber"},"body":{"textMessage":{"content":"hi"}}}}`)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, signedPost(body, "k"))
	require.Equal(t, 200, rec.Code, rec.Body.String())
	require.NotNil(t, got)
	assert.Equal(t, "41791234567", got.Message.To[0].Number)
	assert.Equal(t, []string{"viber"}, got.Message.AllowedChannels)
}
