-- wrk script for bench/wrk.py: every request a vote on one poll by the next voter's access token, a random option.
-- Arguments (after wrk's --): tokens file (one per line), poll id, option ids (comma-separated), wrk's thread count.
-- Thread n takes tokens n, n + threads, n + 2 threads, ...; each counts its 201s and the rest.

local threads = {}

function setup(thread)
   thread:set("id", #threads)
   table.insert(threads, thread)
end

function init(args)
   tokens = {}
   for line in io.lines(args[1]) do
      tokens[#tokens + 1] = line
   end
   poll = args[2]
   options = {}
   for option in string.gmatch(args[3], "[^,]+") do
      options[#options + 1] = option
   end
   stride = tonumber(args[4])
   position = id + 1
   accepted, others, exhausted = 0, 0, 0
   math.randomseed(os.time() + id)
end

function request()
   local token = tokens[position]
   if token == nil then
      -- Out of voters: a repeat voter's ballot is refused (409), counted apart.
      exhausted = exhausted + 1
      token = tokens[id + 1]
   end
   position = position + stride
   local body = string.format('{"poll_id": "%s", "option_ids": ["%s"]}', poll, options[math.random(#options)])
   return wrk.format("POST", "/api/votes", {["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json"}, body)
end

function response(status, headers, body)
   if status == 201 then
      accepted = accepted + 1
   else
      others = others + 1
   end
end

function done(summary, latency, requests)
   local total_accepted, total_others, total_exhausted = 0, 0, 0
   for _, thread in ipairs(threads) do
      total_accepted = total_accepted + thread:get("accepted")
      total_others = total_others + thread:get("others")
      total_exhausted = total_exhausted + thread:get("exhausted")
   end
   io.write(string.format(
      "QUICKPOLL accepted=%d others=%d exhausted=%d seconds=%.3f p50_ms=%.2f p99_ms=%.2f socket_errors=%d\n",
      total_accepted, total_others, total_exhausted, summary.duration / 1e6,
      latency:percentile(50) / 1000, latency:percentile(99) / 1000,
      summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
