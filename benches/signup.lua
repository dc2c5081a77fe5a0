-- wrk script: POST /subscribe with a JSON body and a DISTINCT address on every request.
--
--   BENCH_RUN=<tag> wrk -t2 -c32 -d15s -s benches/signup.lua http://127.0.0.1:PORT/subscribe
--
-- Addresses are  b-<BENCH_RUN>-t<thread>-<n>@example.com : BENCH_RUN differs per wrk
-- invocation (warm-up and measurement get their own), <thread> per wrk thread (each thread
-- has its own Lua state), <n> counts up within the thread. So no two requests of one
-- benchmark ever carry the same address and every one must create a new subscriber.
--
-- Each thread counts the requests it built and the responses by status; done() adds them
-- up and prints machine-readable lines ("bench.<key> <value>") for benches/signup.sh,
-- together with wrk's own throughput and latency percentiles.

local run = os.getenv("BENCH_RUN") or tostring(os.time())

local threads = {}
local next_thread_id = 0

function setup(thread)
   thread:set("thread_id", next_thread_id)
   next_thread_id = next_thread_id + 1
   table.insert(threads, thread)
end

function init(args)
   counter = 0
   sent = 0
   ok = 0
   status_counts = {}
   wrk.method = "POST"
   wrk.headers["Content-Type"] = "application/json"
   wrk.headers["User-Agent"] = "wrk-signup-bench"
   -- benches/cancel_repro.sh also points this script at the JSON API (POST
   -- /api/v1/subscribers, same body), which needs a token.
   local auth = os.getenv("BENCH_AUTH")
   if auth and auth ~= "" then
      wrk.headers["Authorization"] = auth
   end
end

function request()
   counter = counter + 1
   sent = sent + 1
   local body = string.format(
      '{"email":"b-%s-t%d-%d@example.com","name":"Bench Reader %d"}',
      run, thread_id, counter, counter)
   return wrk.format(nil, nil, nil, body)
end

function response(status, headers, body)
   if status == 200 then
      ok = ok + 1
   else
      local key = tostring(status)
      status_counts[key] = (status_counts[key] or 0) + 1
   end
end

function done(summary, latency, requests)
   local total_sent, total_ok = 0, 0
   local others = {}
   for _, t in ipairs(threads) do
      total_sent = total_sent + t:get("sent")
      total_ok = total_ok + t:get("ok")
      local counts = t:get("status_counts")
      for code, n in pairs(counts) do
         others[code] = (others[code] or 0) + n
      end
   end
   local seconds = summary.duration / 1e6
   local non200 = 0
   local other_text = {}
   for code, n in pairs(others) do
      non200 = non200 + n
      table.insert(other_text, code .. "=" .. n)
   end
   local e = summary.errors
   io.write(string.format("bench.run %s\n", run))
   io.write(string.format("bench.duration_s %.3f\n", seconds))
   io.write(string.format("bench.sent %d\n", total_sent))
   io.write(string.format("bench.responses %d\n", summary.requests))
   io.write(string.format("bench.ok200 %d\n", total_ok))
   io.write(string.format("bench.non200 %d\n", non200))
   io.write(string.format("bench.non200_by_status %s\n",
      #other_text > 0 and table.concat(other_text, ",") or "none"))
   io.write(string.format("bench.socket_errors connect=%d read=%d write=%d timeout=%d\n",
      e.connect, e.read, e.write, e.timeout))
   io.write(string.format("bench.rps %.1f\n", summary.requests / seconds))
   io.write(string.format("bench.ok_rps %.1f\n", total_ok / seconds))
   io.write(string.format("bench.lat_mean_ms %.2f\n", latency.mean / 1000))
   io.write(string.format("bench.lat_p50_ms %.2f\n", latency:percentile(50) / 1000))
   io.write(string.format("bench.lat_p90_ms %.2f\n", latency:percentile(90) / 1000))
   io.write(string.format("bench.lat_p99_ms %.2f\n", latency:percentile(99) / 1000))
   io.write(string.format("bench.lat_max_ms %.2f\n", latency.max / 1000))
end
