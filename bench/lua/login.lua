-- POST /auth/login with the JSON body in $BENCH_LOGIN_BODY, every request the same.
wrk.method = "POST"
wrk.path = "/auth/login"
wrk.body = os.getenv("BENCH_LOGIN_BODY")
wrk.headers["Content-Type"] = "application/json"
