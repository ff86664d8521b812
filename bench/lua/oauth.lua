-- OAuth token-endpoint and userinfo load for bench/oidc.sh. Run with -t1.
--
-- $BENCH_METHOD, $BENCH_PATH: the request (default GET /).
-- $BENCH_AUTH: the Authorization header value, when set.
-- $BENCH_COOKIE: the Cookie header value, when set.
-- $BENCH_BODY: a form body (application/x-www-form-urlencoded); "@TOKEN@" in
--   it is replaced by a token from $BENCH_TOKENS as $BENCH_MODE says:
--   fixed    no token: the same request every time (client credentials, userinfo);
--   once     each line of $BENCH_TOKENS once (authorization codes); when
--            they run out the thread stops, so no request is a reused code;
--   rotate   a pool of refresh tokens: each is sent once and the successor
--            in its answer ("refresh_token") goes back into the pool;
--   collect  the same request every time, and the `code` of each answer's
--            Location is appended to $BENCH_OUT until $BENCH_COUNT are
--            written (set-up: codes for a later `once` run), then stops.
-- At the end it prints ok=<2xx answers> and failed=<other answers>.
local mode = os.getenv("BENCH_MODE") or "fixed"
local method = os.getenv("BENCH_METHOD") or "GET"
local path = os.getenv("BENCH_PATH") or "/"
local auth = os.getenv("BENCH_AUTH")
local cookie = os.getenv("BENCH_COOKIE")
local body = os.getenv("BENCH_BODY")
local tokens_file = os.getenv("BENCH_TOKENS")
local out_file = os.getenv("BENCH_OUT")
local want = tonumber(os.getenv("BENCH_COUNT") or "0")
local headers = {}
local fixed = nil
local pool = {}
local next_token = 1
local out = nil
local collected = 0
local threads = {}
ok = 0
failed = 0

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  if auth and auth ~= "" then headers["Authorization"] = auth end
  if cookie and cookie ~= "" then headers["Cookie"] = cookie end
  if body and body ~= "" then headers["Content-Type"] = "application/x-www-form-urlencoded" end
  if mode == "once" or mode == "rotate" then
    for token in io.lines(tokens_file) do
      if token ~= "" then pool[#pool + 1] = token end
    end
  end
  if mode == "collect" then
    out = assert(io.open(out_file, "w"))
    out:setvbuf("line")
  end
  fixed = wrk.format(method, path, headers, body)
end

local function with_token(token)
  return wrk.format(method, path, headers, (body:gsub("@TOKEN@", token)))
end

function request()
  if mode == "once" then
    local token = pool[next_token]
    if token == nil then
      wrk.thread:stop()
      return fixed
    end
    next_token = next_token + 1
    return with_token(token)
  elseif mode == "rotate" then
    local token = table.remove(pool)
    if token == nil then
      wrk.thread:stop()
      return fixed
    end
    return with_token(token)
  end
  return fixed
end

function response(status, headers, body)
  if status >= 200 and status < 400 then ok = ok + 1 else failed = failed + 1 end
  if mode == "rotate" then
    local successor = body:match('"refresh_token"%s*:%s*"([^"]+)"')
    if successor then pool[#pool + 1] = successor end
  elseif mode == "collect" and collected < want then
    local location = headers["Location"] or headers["location"] or ""
    local code = location:match("[?&]code=([^&]+)")
    if code then
      out:write(code, "\n")
      collected = collected + 1
      if collected >= want then
        out:flush()
        wrk.thread:stop()
      end
    end
  end
end

function done(summary, latency, requests)
  local good, bad = 0, 0
  for _, thread in ipairs(threads) do
    good = good + thread:get("ok")
    bad = bad + thread:get("failed")
  end
  io.write(string.format("ok=%d\nfailed=%d\n", good, bad))
end
