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

-- Answers by status, per thread, summed in done().
statuses = {}
function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

local threads_list = {}
local setup_inner = setup
function setup(thread)
  setup_inner(thread)
  threads_list[#threads_list + 1] = thread
end

function done(summary, latency, requests)
  local total = {}
  for _, t in ipairs(threads_list) do
    local s = t:get("statuses")
    for code, n in pairs(s) do
      total[code] = (total[code] or 0) + n
    end
  end
  local parts = {}
  for code, n in pairs(total) do
    parts[#parts + 1] = code .. ": " .. n
  end
  table.sort(parts)
  io.write("answers by status: " .. table.concat(parts, ", ") .. "\n")
end
