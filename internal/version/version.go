// Package version holds the botwire release, the one number every vendor
// package exports as Version and sends in its default User-Agent.
package version

// Version is the botwire release.
const Version = "0.1.0"

// UserAgent is the default User-Agent of vendor's client:
// "botwire-<vendor>/<Version>".
func UserAgent(vendor string) string { return "botwire-" + vendor + "/" + Version }
