-- POST the same small chat completion as ../shared/peers/wrk/chat.lua, to any of the compared targets.
-- Env: MODEL (default gpt-4o-mini; ours: openai/gpt-4o-mini), STREAM=1, AUTH (Authorization value), PORTKEY=1 (its routing headers).
wrk.method = "POST"
local stream = os.getenv("STREAM") == "1"
wrk.body = '{"model":"' .. (os.getenv("MODEL") or "gpt-4o-mini") .. '","messages":[{"role":"user","content":"Say hello"}]' .. (stream and ',"stream":true' or '') .. '}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = os.getenv("AUTH") or "Bearer sk-fake"
if os.getenv("PORTKEY") == "1" then
  wrk.headers["x-portkey-provider"] = "openai"
  wrk.headers["x-portkey-custom-host"] = os.getenv("PORTKEY_CUSTOM_HOST") or "http://127.0.0.1:9100/v1"
end
