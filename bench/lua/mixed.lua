-- GET /me and POST /auth/refresh mixed, for bench/scaleout.sh. Run with -t1.
--
-- $BENCH_TOKENS: access tokens, one a line; GET /me sends them round-robin.
-- $BENCH_REFRESH_TOKENS: refresh tokens, one a line, each used once: every
--   $BENCH_REFRESH_EVERY-th request (default 10) refreshes one taken from the
--   pool, and the successor in the answer goes back into it. A pool that runs
--   dry (it never should: it holds more tokens than there are connections)
--   sends GET /me instead.
-- At the end it prints refreshes_ok (answers carrying a successor) and
-- error_answers (any answer with an error body, /me or refresh), which wrk's
-- own summary cannot tell apart.
local tokens_file = os.getenv("BENCH_TOKENS")
local refresh_file = os.getenv("BENCH_REFRESH_TOKENS")
local every = tonumber(os.getenv("BENCH_REFRESH_EVERY") or "10")
local me = {}
local pool = {}
local i = 0
local n = 0
local threads = {}
refreshes_ok = 0
error_answers = 0

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  for token in io.lines(tokens_file) do
    if token ~= "" then
      me[#me + 1] = wrk.format("GET", "/me", { Authorization = "Bearer " .. token })
    end
  end
  for token in io.lines(refresh_file) do
    if token ~= "" then
      pool[#pool + 1] = token
    end
  end
end

local function refresh_request(token)
  return wrk.format("POST", "/auth/refresh", { ["Content-Type"] = "application/json" },
    '{"refresh_token":"' .. token .. '"}')
end

function request()
  n = n + 1
  if n % every == 0 and #pool > 0 then
    return refresh_request(table.remove(pool))
  end
  i = i % #me + 1
  return me[i]
end

function response(status, headers, body)
  local successor = body:match('"refresh_token"%s*:%s*"([^"]+)"')
  if successor then
    pool[#pool + 1] = successor
    refreshes_ok = refreshes_ok + 1
  elseif status ~= 200 and body:find('"error"', 1, true) then
    error_answers = error_answers + 1
  end
end

function done(summary, latency, requests)
  local ok, failed = 0, 0
  for _, thread in ipairs(threads) do
    ok = ok + thread:get("refreshes_ok")
    failed = failed + thread:get("error_answers")
  end
  io.write(string.format("refreshes_ok=%d\nerror_answers=%d\n", ok, failed))
end
