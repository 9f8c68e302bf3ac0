// Package browsertest drives "botwire emulate" in a real headless Chromium
// for every platform: open the page, send a text, see the bot's reply
// rendered, click a button and see the next reply, open the inspector, and
// take a screenshot. It is a module of its own, so the CDP driver never
// reaches botwire's users:
//
//	cd browsertest && go test ./...
//
// Without Chromium the tests skip, unless BOTWIRE_REQUIRE_BROWSER=1 (CI),
// where that fails. Screenshots go to $BOTWIRE_SCREENSHOTS (default:
// screenshots/ here).
package browsertest
