-- wrk script: GET the open pixel (or the tracked link) of a different real delivery on each request, round robin
-- over the URL paths in the file named by BENCH_PATHS (one per line).
local paths = {}
for line in io.lines(os.getenv("BENCH_PATHS")) do
   paths[#paths + 1] = line
end
local n = 0
request = function()
   n = n + 1
   local path = paths[(n % #paths) + 1]
   return wrk.format("GET", path, {["User-Agent"] = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) Thunderbird/128.0"})
end
done = function(summary, latency, requests)
   io.write(string.format("bench.requests %d\n", summary.requests))
   io.write(string.format("bench.non2xx %d\n", summary.errors.status))
   io.write(string.format("bench.socket_errors %d\n", summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
   io.write(string.format("bench.rps %.0f\n", summary.requests / (summary.duration / 1e6)))
   io.write(string.format("bench.p50_ms %.2f\n", latency:percentile(50) / 1000))
   io.write(string.format("bench.p99_ms %.2f\n", latency:percentile(99) / 1000))
end
