-- wrk script for scripts/bench/signed.ts: cycles through pre-generated requests read from the file
-- named by BENCH_REQUESTS, one per line: path <TAB> tenant_id <TAB> timestamp_ms <TAB> signature <TAB> json_body
-- (tenant/timestamp/signature empty for the bare route). Run as `wrk -tN ... -s requests.lua -- N`. Thread k of N takes lines k, k+n, k+2n, ...
-- so no two threads send the same signed request. A thread that runs out starts over and counts a
-- wrap: for the signed route that means replays (401s), so the bench reports wraps as a failed round.
local threads = {}
local counter = 0

function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  local nthreads = tonumber(args[1]) or 1 -- wrk ... -s requests.lua -- <threads>
  local path = os.getenv("BENCH_REQUESTS")
  reqs = {}
  wraps = 0
  idx = 0
  local k = 0
  for line in io.lines(path) do
    if k % nthreads == tid then
      local p, tenant, ts, sig, body = line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)$")
      local headers = { ["Content-Type"] = "application/json" }
      if tenant ~= "" then
        headers["X-Bloonio-Tenant-Id"] = tenant
        headers["X-Bloonio-Timestamp"] = ts
        headers["X-Bloonio-Signature"] = sig
      end
      reqs[#reqs + 1] = wrk.format("POST", p, headers, body)
    end
    k = k + 1
  end
  -- wrk's setup() copies thread 0's counter before init; keep the per-thread count for done().
  wrk.thread:set("loaded", #reqs)
end

function request()
  idx = idx + 1
  if idx > #reqs then
    idx = 1
    wraps = wraps + 1
    wrk.thread:set("wraps", wraps)
  end
  return reqs[idx]
end

function done(summary, latency, requests)
  local w, loaded = 0, 0
  for _, t in ipairs(threads) do
    w = w + (t:get("wraps") or 0)
    loaded = loaded + (t:get("loaded") or 0)
  end
  io.write(string.format("BENCH_DONE loaded=%d wraps=%d\n", loaded, w))
end
