#!/usr/bin/env bash
# Trains the zstd dictionary for stored raw JSON (crates/store/src/raw.rs) on the sandbox's
# Stripe objects, as its API sends them. Not part of the build or the tests: the dictionary in
# the repository never changes (rows written with it must stay readable); a new one takes a
# new id (the second argument) and raw.rs learns to read both.
# Needs a built CLI and `pip install zstandard`.
# Usage: scripts/train-raw-dictionary.sh OUT.zdict [DICT_ID]
set -euo pipefail
out=$1
dict_id=${2:-$((0x53420001))}
bin=${SWITCHBOARD_BIN:-target/release/switchboard}
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
# Seed 11: not the import benchmark's data (seed 3), so the benchmark measures a dictionary
# that has not seen its objects.
"$bin" --data-dir "$work/unused" sandbox serve --seed 11 --stripe-charges 3000 >"$work/ready" &
for _ in $(seq 100); do [ -s "$work/ready" ] && break; sleep 0.1; done
python3 - "$work/ready" "$out" "$dict_id" <<'PY'
import json, sys, urllib.parse, urllib.request, zstandard
ready, out, dict_id = sys.argv[1], sys.argv[2], int(sys.argv[3])
stripe = json.loads(open(ready).readline())["providers"]["stripe"]
samples = []
for path, extra in [("charges", {}), ("balance_transactions", {}), ("refunds", {}),
                    ("customers", {}), ("subscriptions", {"status": "all"}),
                    ("disputes", {}), ("payouts", {})]:
    after = None
    while True:
        query = {"limit": "100", **extra, **({"starting_after": after} if after else {})}
        request = urllib.request.Request(
            f"{stripe['api_base']}/v1/{path}?{urllib.parse.urlencode(query)}",
            headers={"Authorization": f"Bearer {stripe['api_key']}"})
        page = json.load(urllib.request.urlopen(request))
        # Compact, keys in the provider's order: the bytes the adapter stores.
        samples += [json.dumps(o, separators=(",", ":"), ensure_ascii=False).encode()
                    for o in page["data"]]
        if not page["has_more"] or not page["data"]:
            break
        after = page["data"][-1]["id"]
d = zstandard.train_dictionary(65536, samples, dict_id=dict_id, level=3)
open(out, "wb").write(d.as_bytes())
print(f"{out}: {len(d.as_bytes())} bytes, id {dict_id:#x}, from {len(samples)} objects")
PY
