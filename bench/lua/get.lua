-- GET $BENCH_PATH (default /me). With $BENCH_TOKENS (a file, one token a
-- line) each request carries the next token as `Authorization: Bearer`,
-- round-robin; without it, no Authorization header. Every request is built
-- in init(), so each GET run (no-auth route, one token, N tokens) costs the
-- client the same per request. With $BENCH_DELAY_MS each connection waits
-- that long after each response before its next request (a paced load, for
-- latency at a set rate rather than at saturation).
local path = os.getenv("BENCH_PATH") or "/me"
local file = os.getenv("BENCH_TOKENS")
local requests = {}
local i = 0
local delay_ms = tonumber(os.getenv("BENCH_DELAY_MS") or "")

if delay_ms then
  function delay()
    return delay_ms
  end
end

function init(args)
  if file and file ~= "" then
    for token in io.lines(file) do
      if token ~= "" then
        requests[#requests + 1] = wrk.format("GET", path, { Authorization = "Bearer " .. token })
      end
    end
  else
    requests[1] = wrk.format("GET", path)
  end
end

function request()
  i = i % #requests + 1
  return requests[i]
end
