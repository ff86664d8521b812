-- Set-up only, never measured: POST /auth/login with $BENCH_LOGIN_BODY and
-- append each access token to $BENCH_MINT_OUT until $BENCH_MINT_COUNT are
-- written; run.sh then stops wrk with SIGINT. Run with -t1.
wrk.method = "POST"
wrk.path = "/auth/login"
wrk.body = os.getenv("BENCH_LOGIN_BODY")
wrk.headers["Content-Type"] = "application/json"

local want = tonumber(os.getenv("BENCH_MINT_COUNT"))
local out = nil
local n = 0

function init(args)
  out = assert(io.open(os.getenv("BENCH_MINT_OUT"), "w"))
end

function response(status, headers, body)
  if n >= want or status ~= 200 then
    return
  end
  local token = body:match('"access_token"%s*:%s*"([^"]+)"')
  if token then
    out:write(token, "\n")
    n = n + 1
    if n == want then
      out:flush()
    end
  end
end
