-- wrk script: requests the paths of a file (one a line) in turn, each thread starting at a
-- different line, and prints a machine-readable summary line at the end.
--   wrk -t2 -c64 -d20s -s benches/urls.lua http://127.0.0.1:PORT -- benches/data/urls_items.txt

local counter = 0
local threads = {}

function setup(thread)
  thread:set("thread_id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

local paths = {}
local idx = 1

function init(args)
  local file = args[1]
  if file == nil then
    error("usage: wrk ... -s urls.lua URL -- FILE")
  end
  for line in io.lines(file) do
    if #line > 0 then
      paths[#paths + 1] = line
    end
  end
  if #paths == 0 then
    error("no paths in " .. file)
  end
  idx = ((thread_id or 0) * 7919) % #paths + 1
end

function request()
  local p = paths[idx]
  idx = idx % #paths + 1
  return wrk.format("GET", p)
end

function done(summary, latency, requests)
  local secs = summary.duration / 1e6
  local e = summary.errors
  io.write(string.format(
    "RESULT requests=%d seconds=%.2f rps=%.1f p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f max_ms=%.2f bytes_per_req=%.0f non2xx=%d errors=%d\n",
    summary.requests, secs, summary.requests / secs,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000,
    summary.bytes / math.max(summary.requests, 1),
    e.status, e.connect + e.read + e.write + e.timeout))
end
