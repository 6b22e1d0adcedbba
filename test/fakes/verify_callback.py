"""A tenant backend's callback check, written exactly as the seed's recipe (Authentication (HMAC)):
signature = hex(hmac_sha256(tenant_secret, f"{timestamp_ms}.{sha256_hex(body)}")), compared in
constant time, with the timestamp within 30 s. Reads JSON lines {secret, timestamp, signature, body}
on stdin and prints "ok" or "bad" for each."""
import hashlib
import hmac
import json
import sys
import time

for line in sys.stdin:
    req = json.loads(line)
    body = req["body"].encode()
    body_hash = hashlib.sha256(body).hexdigest()
    expected = hmac.new(req["secret"].encode(), f"{req['timestamp']}.{body_hash}".encode(), hashlib.sha256).hexdigest()
    fresh = abs(time.time() * 1000 - int(req["timestamp"])) <= 30_000
    print("ok" if fresh and hmac.compare_digest(expected, req["signature"]) else "bad", flush=True)
