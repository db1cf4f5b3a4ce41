-- wrk script of benches/write_load.sh: every request creates a new incident (POST) with its
-- own title and Idempotency-Key. The token comes from the environment (WRITE_TOKEN).
dofile("benches/support/writes.lua")

function init(args)
  n = 0
  created = 0
  failed = 0
  token = os.getenv("WRITE_TOKEN")
  run = os.getenv("RUN_ID") or "0"
end

function request()
  n = n + 1
  local lon = 61 + (n * 7 % 1000) / 100
  local lat = 30 + (tid * 3 + n) % 700 / 100
  local body = string.format(
    '{"type":"Feature","geometry":{"type":"Point","coordinates":[%.4f,%.4f]},'
      .. '"properties":{"date":"2026-01-01","title":"load %s t%d n%d","deaths":0,'
      .. '"sources":["https://example.org/load"]}}',
    lon, lat, run, tid, n)
  return wrk.format("POST", "/collections/incidents/items", {
    ["Content-Type"] = "application/geo+json",
    ["Authorization"] = "Bearer " .. token,
    ["Idempotency-Key"] = string.format("load-%s-t%d-n%d", run, tid, n),
  }, body)
end

function response(status, headers, body)
  if status == 201 then created = created + 1 else failed = failed + 1 end
end

function done(summary, latency, requests)
  io.write(string.format("writes: %d created (201), %d other statuses, %d socket errors\n",
    thread_sum("created"), thread_sum("failed"), socket_errors(summary)))
  io.write(string.format("throughput: %.0f writes/s\n", summary.requests / (summary.duration / 1e6)))
  write_latency(latency)
end
