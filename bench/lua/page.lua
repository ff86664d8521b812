-- GET $BENCH_PATH as a browser would (Accept: text/html), with
-- $BENCH_COOKIE as the Cookie header and $BENCH_TOKEN as a Bearer token
-- when set. The request is built once in init(), so every route costs the
-- client the same. With $BENCH_DELAY_MS each connection waits that long
-- after each response (a paced load, for latency at a set rate).
local path = os.getenv("BENCH_PATH") or "/login"
local cookie = os.getenv("BENCH_COOKIE")
local token = os.getenv("BENCH_TOKEN")
local delay_ms = tonumber(os.getenv("BENCH_DELAY_MS") or "")
local req

if delay_ms then
  function delay()
    return delay_ms
  end
end

function init(args)
  local headers = { Accept = "text/html" }
  if cookie and cookie ~= "" then headers["Cookie"] = cookie end
  if token and token ~= "" then headers["Authorization"] = "Bearer " .. token end
  req = wrk.format("GET", path, headers)
end

function request()
  return req
end

-- Non-2xx answers (a lost session would be a 303) are counted by wrk;
-- the script also reports them by status for the log.
local statuses = {}
function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end
