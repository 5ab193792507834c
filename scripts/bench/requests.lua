-- wrk script: sends pre-signed unique webhooks written by
-- `hookgate bench --write-requests FILE` (one request per line: path,
-- `name: value` headers and the body, tab-separated). Each wrk thread takes
-- every THREADS-th line, so no request is sent twice until a thread runs out
-- (then it starts again: provider retries, answered from the dedupe path).
--   REQUESTS=/tmp/hookgate-requests.tsv THREADS=2 wrk -t2 -c64 -d15s -s scripts/bench/requests.lua http://127.0.0.1:8080
local file = os.getenv("REQUESTS") or "/tmp/hookgate-requests.tsv"
local threads = tonumber(os.getenv("THREADS") or "2")
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
end

local requests = {}
local next_request = 1

function init(args)
  local n = 0
  for line in io.lines(file) do
    if n % threads == id - 1 then
      local fields = {}
      for field in string.gmatch(line, "[^\t]+") do
        fields[#fields + 1] = field
      end
      local headers = { ["Content-Type"] = "application/json" }
      for i = 2, #fields - 1 do
        local name, value = string.match(fields[i], "^([^:]+): (.*)$")
        headers[name] = value
      end
      requests[#requests + 1] = wrk.format("POST", fields[1], headers, fields[#fields])
    end
    n = n + 1
  end
end

function request()
  local r = requests[next_request]
  next_request = next_request % #requests + 1
  return r
end

local non2xx = 0
function response(status, headers, body)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
  end
end
