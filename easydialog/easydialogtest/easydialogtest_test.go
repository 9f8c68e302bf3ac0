package easydialogtest_test

import (
	"bytes"
	"context"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/botwire/botwire/easydialog"
	"github.com/botwire/botwire/easydialog/easydialogtest"
	"github.com/botwire/botwire/internal/golden"
)

func echo(t *testing.T, key string, opts ...easydialog.Option) *easydialog.Handler {
	h, err := easydialog.NewHandler(key, func(_ context.Context, r *easydialog.Request) (*easydialog.Response, error) {
		return easydialog.Reply(easydialog.NewTextMessage("You said: " + r.Message.Text())), nil
	}, opts...)
	require.NoError(t, err)
	return h
}

func TestEncodeLikePHP(t *testing.T) {
	b, err := easydialogtest.Encode(easydialogtest.Text("d1", "Grüße / ciao 👋 <b>"))
	require.NoError(t, err)
	assert.Contains(t, string(b), `"content":"Gr\u00fc\u00dfe \/ ciao \ud83d\udc4b <b>"`)
	assert.Contains(t, string(b), `"from":"RC32utNr+lEKr\/Gij0TYTw=="`)
	assert.NotContains(t, string(b), "\n")
	lit, err := easydialogtest.Encode(easydialogtest.Text("d1", `a\u003cb & c`))
	require.NoError(t, err)
	assert.Contains(t, string(lit), `"content":"a\\u003cb & c"`, "a literal backslash-u must stay escaped")
	// The PHP form is still the same JSON value.
	req, err := easydialog.ParseRequest(b)
	require.NoError(t, err)
	assert.Equal(t, "Grüße / ciao 👋 <b>", req.Message.Text())
	assert.True(t, req.Message.ProviderMsgID.IsNumber())
	n, err := req.Message.ProviderMsgID.Int64()
	require.NoError(t, err)
	assert.Greater(t, n, int64(1)<<53, "a realistic providerMsgID is beyond 2^53")
	_, err = req.Message.Timestamp.Time()
	assert.NoError(t, err)
}

func TestDeliverToHandlerAndURL(t *testing.T) {
	ctx := context.Background()
	bot := echo(t, "key-1")
	fake := easydialogtest.NewServer(easydialogtest.Config{SignatureKey: "key-1", Bot: bot})
	defer fake.Close()
	res, err := fake.Deliver(ctx, easydialogtest.Text("d1", "héllo / there"))
	require.NoError(t, err)
	assert.Equal(t, 200, res.StatusCode)
	assert.Equal(t, []string{"You said: héllo / there"}, res.Texts())
	assert.Positive(t, res.Latency)

	srv := httptest.NewServer(bot)
	defer srv.Close()
	fake.SetBotURL(srv.URL)
	res, err = fake.Deliver(ctx, easydialogtest.Text("d1", "hi"))
	require.NoError(t, err)
	assert.Equal(t, []string{"You said: hi"}, res.Texts())

	// The openssl vector, delivered byte for byte, passes the handler.
	key := string(golden.Read(t, "easydialog/signed/key.txt"))
	vectorFake := easydialogtest.NewServer(easydialogtest.Config{SignatureKey: key, BotURL: srv.URL})
	res, err = vectorFake.DeliverRaw(ctx, golden.Read(t, "easydialog/signed/request_php.json"))
	require.NoError(t, err)
	assert.Equal(t, 401, res.StatusCode, "the bot has another key")
	vectorFake.SetBot(echo(t, key, easydialog.WithMaxAge(-1))) // the vector was signed in 2022
	res, err = vectorFake.DeliverRaw(ctx, golden.Read(t, "easydialog/signed/request_php.json"))
	require.NoError(t, err)
	assert.Equal(t, []string{"You said: Grüße / ciao 👋 https://example.com/a"}, res.Texts())

	wrong := easydialogtest.NewServer(easydialogtest.Config{SignatureKey: "other", Bot: bot})
	res, err = wrong.Deliver(ctx, easydialogtest.Picture("d1", "https://x/y.jpg"))
	require.NoError(t, err)
	assert.Equal(t, 401, res.StatusCode)
	assert.Nil(t, res.Reply)

	_, err = easydialogtest.NewServer(easydialogtest.Config{SignatureKey: "k"}).Deliver(ctx, easydialogtest.Text("d1", "hi"))
	assert.ErrorIs(t, err, easydialogtest.ErrNoBot)
}

func TestDeliveryOfAnEmptyReply(t *testing.T) {
	bad, err := easydialog.NewHandler("k", func(context.Context, *easydialog.Request) (*easydialog.Response, error) {
		return nil, nil
	})
	require.NoError(t, err)
	res, err := easydialogtest.NewServer(easydialogtest.Config{SignatureKey: "k", Bot: bad}).
		Deliver(context.Background(), easydialogtest.Location("d1", 47.37, 8.54))
	require.NoError(t, err)
	assert.Empty(t, res.Reply.Messages)
	assert.True(t, bytes.Equal(res.Body, []byte(`{"messages":[]}`)))
}
