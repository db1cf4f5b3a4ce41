-- wrk script of benches/write_1m.sh: each request creates a point (POST) or, with
-- probability REPLACE (0..1, default 0.5), replaces a random point of the first N (PUT).
-- Bodies have the properties of ../shared/bench/gen_data.py, so the schema does not change.
-- The token comes from the environment (WRITE_TOKEN).
dofile("benches/support/writes.lua")

function init(args)
  n = 0
  created = 0
  replaced = 0
  failed = 0
  token = os.getenv("WRITE_TOKEN")
  points = tonumber(os.getenv("N") or "1000000")
  share = tonumber(os.getenv("REPLACE") or "0.5")
  math.randomseed(tid * 7919 + os.time())
end

function request()
  n = n + 1
  local lon = 60 + math.random() * 15
  local lat = 24 + math.random() * 14
  local body = string.format(
    '{"type":"Feature","geometry":{"type":"Point","coordinates":[%.6f,%.6f]},'
      .. '"properties":{"id":%d,"date":"2026-01-01","deaths":0,"injuries":1,'
      .. '"category":"load","name":"load t%d n%d"}}',
    lon, lat, n, tid, n)
  local headers = {
    ["Content-Type"] = "application/geo+json",
    ["Authorization"] = "Bearer " .. token,
  }
  if math.random() < share then
    local id = math.random(1, points)
    return wrk.format("PUT", "/collections/points/items/" .. id, headers, body)
  end
  return wrk.format("POST", "/collections/points/items", headers, body)
end

function response(status, headers, body)
  if status == 201 then
    created = created + 1
  elseif status == 200 then
    replaced = replaced + 1
  else
    failed = failed + 1
  end
end

function done(summary, latency, requests)
  local c, r = thread_sum("created"), thread_sum("replaced")
  io.write(string.format("writes: %d created (201), %d replaced (200), %d other statuses, %d socket errors\n",
    c, r, thread_sum("failed"), socket_errors(summary)))
  io.write(string.format("throughput: %.0f acknowledged writes/s\n", (c + r) / (summary.duration / 1e6)))
  write_latency(latency)
end
