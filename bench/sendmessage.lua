-- wrk script for bench/sandbox_throughput.py: every request is a sendMessage to the
-- demo CS forum group, as a form-urlencoded POST (the encoding aiogram uses).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.body = "chat_id=-1002001&text=Benchmark%20message%20from%20wrk"
