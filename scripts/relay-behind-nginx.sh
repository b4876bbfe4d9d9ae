#!/usr/bin/env bash
# Checks docs/RELAY.md's nginx recipe end to end on this machine: the plain relay binary on
# 127.0.0.1, nginx terminating TLS in front of it (a throwaway self-signed certificate for
# relay.example.com), and the sandbox's fake QuickBooks behind the relay. Not part of CI (it
# needs nginx: apt-get install nginx-light openssl). Usage: bash scripts/relay-behind-nginx.sh
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
cargo build -q -p switchboard-relay -p switchboard-cli
BIN="${CARGO_TARGET_DIR:-$ROOT/target}/debug"
WORK="$(mktemp -d)"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# The fake QuickBooks, as the provider behind the relay.
"$BIN/switchboard" sandbox serve --stripe-charges 1 >"$WORK/ready" 2>/dev/null &
PIDS+=($!)
for _ in $(seq 100); do [[ -s "$WORK/ready" ]] && break; sleep 0.1; done
qbo() { node -e "const p=JSON.parse(require('fs').readFileSync('$WORK/ready','utf8')).providers.quickbooks; console.log(p['$1'])"; }

# The relay, configured from its environment only (docs/RELAY.md).
RELAY_LISTEN=127.0.0.1:18080 \
RELAY_QUICKBOOKS_CLIENT_ID="$(qbo client_id)" RELAY_QUICKBOOKS_CLIENT_SECRET="$(qbo client_secret)" \
RELAY_QUICKBOOKS_TOKEN_URL="$(qbo token_url)" RELAY_QUICKBOOKS_REVOKE_URL="$(qbo revoke_url)" \
  "$BIN/switchboard-relay" 2>"$WORK/relay.log" &
PIDS+=($!)

# nginx with the guide's server block (ports and certificate paths changed for a test run).
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=relay.example.com" \
  -keyout "$WORK/key.pem" -out "$WORK/cert.pem" 2>/dev/null
cat >"$WORK/nginx.conf" <<CONF
worker_processes 1;
pid $WORK/nginx.pid;
error_log $WORK/error.log;
events {}
http {
    log_format relay '\$remote_addr [\$time_local] "\$request_method \$uri" \$status \$request_time';
    server {
        listen 127.0.0.1:18443 ssl;
        server_name relay.example.com;
        ssl_certificate     $WORK/cert.pem;
        ssl_certificate_key $WORK/key.pem;
        access_log $WORK/access.log relay;
        client_max_body_size 64k;
        location / {
            proxy_pass http://127.0.0.1:18080;
            proxy_set_header Host \$host;
            proxy_read_timeout 30s;
        }
    }
}
CONF
nginx -c "$WORK/nginx.conf" -g 'daemon off;' &
PIDS+=($!)
sleep 1
CURL=(curl -sS --resolve relay.example.com:18443:127.0.0.1 --cacert "$WORK/cert.pem")
BASE=https://relay.example.com:18443

[[ "$("${CURL[@]}" "$BASE/healthz")" == ok ]] || fail "healthz through nginx"
echo "ok: healthz over HTTPS through nginx"

loc="$("${CURL[@]}" -o /dev/null -w '%{redirect_url}' "$BASE/oauth/quickbooks/callback?code=C1&state=53682.abc&realmId=42")"
[[ "$loc" == "http://localhost:53682/oauth/callback?code=C1&state=53682.abc&realmId=42" ]] ||
  fail "callback redirect: $loc"
echo "ok: the callback sends the browser to the loopback port in state, query unchanged"

body="$("${CURL[@]}" -w ' %{http_code}' -d 'grant_type=authorization_code&code=nope&redirect_uri=x&code_verifier=v&client_id=y' "$BASE/oauth/quickbooks/token")"
[[ "$body" == *invalid_grant*400 ]] || fail "token passthrough: $body"
echo "ok: a token request reaches Intuit's fake with the secret added; its 400 invalid_grant comes back unchanged"

grep -q 'code=' "$WORK/access.log" && fail "nginx logged a query string"
echo "ok: nginx's access log holds paths only"
grep -q 'nope' "$WORK/relay.log" && fail "the relay logged a code"
echo "ok: the relay's log holds no code"
echo "PASS: docs/RELAY.md's nginx recipe works"
