-- One prompt request per call, as an app would submit it (local provider, stored).
wrk.method = "POST"
wrk.body = '{"promptType":"text","promptText":"What is AI?","purpose":{"code":"bench"},"store":true}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("AIPROMPTS_TOKEN")

function response(status, headers, body)
  if status ~= 202 then
    io.stderr:write("unexpected status " .. status .. ": " .. body .. "\n")
  end
end
