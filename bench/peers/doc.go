// Package peers benchmarks botwire's webhook handlers against the webhook
// parsers of two widely used Go SDKs on bodies of equal size: LINE's
// webhook.ParseRequest and go-github's ValidatePayload + ParseWebHook. It is
// a module of its own, so its dependencies never reach botwire's users:
//
//	cd bench/peers && go test -run '^$' -bench . -count 6
//
// Each benchmark reports CPU time per operation (cpu-ns/op, from
// getrusage: the machines it runs on are shared and wall time is noise)
// beside Go's wall-time ns/op.
package peers
