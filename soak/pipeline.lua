-- wrk script: 16 pipelined requests per write, a mix of GET / and POST /echo.
init = function(args)
   local r = {}
   for i = 1, 16 do
      if i % 4 == 0 then
         r[i] = wrk.format("POST", "/echo", {["Content-Length"] = "11"}, "hello, soak")
      else
         r[i] = wrk.format("GET", "/")
      end
   end
   req = table.concat(r)
end

request = function()
   return req
end
