#!/bin/sh
# The "system browser" of the end-to-end tests ($BROWSER, which the app's opener honours):
# follows the sign-in address as a browser would. The sandbox's fake providers approve by
# themselves and redirect to the app's loopback listener, so this completes a sign-in without a
# person. In the background, so the app's "open the browser" call returns at once, as with a
# real browser; each address is logged for the test to check.
echo "$1" >>"${E2E_OUTPUT_DIR:-/tmp}/fake-browser.log"
node -e '
fetch(process.argv[1]).then(
  (r) => { console.error("fake browser: HTTP " + r.status); process.exit(r.ok ? 0 : 1); },
  (e) => { console.error("fake browser: " + e.message); process.exit(1); },
);' "$1" >>"${E2E_OUTPUT_DIR:-/tmp}/fake-browser.log" 2>&1 &
