-- wrk script (not Redis): every request a small JSON POST, for scripts/bench/stack-cost.ts.
wrk.method = "POST"
wrk.body = '{"note":"x"}'
wrk.headers["Content-Type"] = "application/json"
