-- Per-second response counts for wrk, to compare the first and the last
-- seconds of one long run without reconnecting. Each thread counts in its
-- own Lua state; done() sums them and prints "second EPOCH COUNT" lines.
-- The response() hook costs wrk some CPU; it runs alike for every server.
local threads = {}

function setup(thread)
   table.insert(threads, thread)
end

counts = {}

function response(status, headers, body)
   local s = os.time()
   counts[s] = (counts[s] or 0) + 1
end

function done(summary, latency, requests)
   local total = {}
   for _, t in ipairs(threads) do
      for s, n in pairs(t:get("counts")) do
         total[s] = (total[s] or 0) + n
      end
   end
   for s, n in pairs(total) do
      io.write(string.format("second %d %d\n", s, n))
   end
end
