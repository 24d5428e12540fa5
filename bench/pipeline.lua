-- Pipelining for wrk: each write carries PIPELINE_DEPTH (default 16) GET /
-- requests back to back; wrk counts every response, so Requests/sec is
-- responses per second.
local depth = tonumber(os.getenv("PIPELINE_DEPTH") or "16")

init = function(args)
   local batch = {}
   for i = 1, depth do
      batch[i] = wrk.format(nil, "/")
   end
   req = table.concat(batch)
end

request = function()
   return req
end
