-- Shared by the write scripts of benches/ (write_post.lua, write_1m.lua), which load it with
-- dofile from the repository root: each wrk thread numbered (tid), a counter summed over the
-- threads, and the socket errors and latency lines every write run prints.
local threads = {}
local next_id = 0

function setup(thread)
  thread:set("tid", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

-- The sum over the threads of the global counter NAME.
function thread_sum(name)
  local total = 0
  for _, t in ipairs(threads) do total = total + t:get(name) end
  return total
end

function socket_errors(summary)
  local e = summary.errors
  return e.connect + e.read + e.write + e.timeout
end

function write_latency(latency)
  io.write(string.format("latency ms: p50 %.2f  p90 %.2f  p99 %.2f  max %.2f\n",
    latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000))
end
