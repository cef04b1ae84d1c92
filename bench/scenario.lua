-- One wrk script for every scenario, steered by environment variables:
--   BENCH_TOKEN     bearer token sent on every request (the signed-in demo user)
--   BENCH_METHOD    GET (default) or POST
--   BENCH_BODY      request body for POST (JSON); "{n}" becomes a per-request counter
--   BENCH_IF_NONE_MATCH  an ETag sent as If-None-Match (revalidation: 304s)
--   BENCH_DELAY_MS  mean pause between a connection's requests (exponential, so arrivals are
--                   Poisson-like); 0 or unset = closed loop at full speed
-- done() prints one line, "BENCH_JSON {...}", that bench/run.py reads.
local token = os.getenv("BENCH_TOKEN")
local method = os.getenv("BENCH_METHOD") or "GET"
local body = os.getenv("BENCH_BODY")
local delay_ms = tonumber(os.getenv("BENCH_DELAY_MS") or "0")
local if_none_match = os.getenv("BENCH_IF_NONE_MATCH")
local counter = 0
local thread_id = 0
local threads = {}

function setup(thread)
  thread_id = thread_id + 1
  thread:set("id", thread_id)
  table.insert(threads, thread)
end

function init(args)
  math.randomseed(os.time() + (id or 0) * 7919)
  wrk.method = method
  wrk.headers["Content-Type"] = "application/json"
  if token and token ~= "" then
    wrk.headers["Authorization"] = "Bearer " .. token
  end
  if if_none_match and if_none_match ~= "" then
    wrk.headers["If-None-Match"] = if_none_match
  end
end

function request()
  if body then
    counter = counter + 1
    local text = body:gsub("{n}", (id or 0) .. "-" .. counter)
    return wrk.format(nil, nil, nil, text)
  end
  return wrk.format()
end

if delay_ms > 0 then
  function delay()
    return math.floor(-math.log(1 - math.random()) * delay_ms)
  end
end

function done(summary, latency, requests)
  -- Latency at every 0.5th percentile, so run.py can merge several runs into one distribution.
  local quantiles = {}
  for step = 1, 200 do
    quantiles[step] = string.format("%d", latency:percentile(step / 2))
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, ' ..
    '"max_us": %d, "connect_errors": %d, "read_errors": %d, "write_errors": %d, ' ..
    '"non_2xx": %d, "timeouts": %d, "quantiles_us": [%s]}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    latency.max, e.connect, e.read, e.write, e.status, e.timeout, table.concat(quantiles, ",")))
end
