module github.com/botwire/botwire/bench/peers

go 1.25

require (
	github.com/botwire/botwire v0.1.0
	github.com/google/go-github/v75 v75.0.0
	github.com/line/line-bot-sdk-go/v8 v8.14.0
)

require (
	github.com/google/go-querystring v1.1.0 // indirect
)
