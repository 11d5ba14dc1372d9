using System.Net.Http.Json;
using System.Text.Json;
using AiPrompts.Tests.Infrastructure;

namespace AiPrompts.Tests.Assistants;

/// <summary>
/// The official OpenAI SDK for Node (openai 7.60.0, the current major, tests/sdk-clients, installed by scripts/test) pointed at
/// /api/v1 with our API keys: assistants, threads, messages (auto-paginated), a run polled to completion,
/// runs listed, the SDK's error classes for a 404 and a 400, deletion. Api on a real socket, a real Worker.
/// </summary>
public sealed class OpenAISdkTests(OpenAISdkTests.Fixture fixture) : IClassFixture<OpenAISdkTests.Fixture>
{
    public sealed class Fixture : WorkerFactory
    {
        public Fixture() => UseKestrel(0);

        public Uri Address => ClientOptions.BaseAddress;
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private async Task<string> KeyAsync(TestUser user, params string[] scopes)
    {
        using var client = fixture.CreateClient(user.Token);
        var made = await client.PostAsJsonAsync("/api/v1/api-keys", new { name = "sdk", scopes }, Ct);
        var text = await made.Content.ReadAsStringAsync(Ct);
        Assert.True(made.IsSuccessStatusCode, text);
        return JsonDocument.Parse(text).RootElement.GetProperty("data").GetProperty("key").GetString()!;
    }

    [Fact]
    public async Task The_official_OpenAI_SDK_drives_assistants_threads_messages_and_runs_unchanged()
    {
        var admin = await fixture.CreateUserAsync("admin");
        var adminKey = await KeyAsync(admin, "admin");
        var strangerKey = await KeyAsync(await fixture.CreateUserAsync("user"), "prompts");
        var seen = await NodeSdk.RunAsync("assistants.mjs", [fixture.Address.ToString(), adminKey, strangerKey], Ct);

        Assert.Equal("assistant", seen.GetProperty("assistant").GetProperty("object").GetString());
        Assert.Equal("local-text", seen.GetProperty("assistant").GetProperty("model").GetString());
        Assert.Equal("retail", seen.GetProperty("assistant").GetProperty("metadata").GetProperty("team").GetString());
        Assert.Equal("Signage analyst v2", seen.GetProperty("renamed").GetString());
        Assert.Equal("Signage analyst v2", seen.GetProperty("retrieved").GetString());
        Assert.Equal("thread", seen.GetProperty("thread").GetProperty("object").GetString());
        Assert.Equal("lobby", seen.GetProperty("thread").GetProperty("metadata").GetProperty("panel").GetString());
        Assert.Equal("Data: {\"screen\": 3, \"plays\": 41}", seen.GetProperty("added").GetProperty("text").GetString());

        var run = seen.GetProperty("run");
        Assert.Equal("thread.run", run.GetProperty("object").GetString());
        Assert.Equal("completed", run.GetProperty("status").GetString());
        Assert.True(run.GetProperty("assistant").GetBoolean());
        Assert.True(run.GetProperty("tokens").GetInt64() > 0);

        // Auto-pagination one message a page: the SDK follows has_more and after.
        var messages = seen.GetProperty("messages").EnumerateArray().Select(m => m.GetString()!).ToList();
        Assert.Equal(3, messages.Count);
        Assert.Equal("user: Which screen played the most?", messages[0]);
        Assert.StartsWith("assistant: ", messages[2], StringComparison.Ordinal);
        Assert.Equal(["completed"], seen.GetProperty("runs").EnumerateArray().Select(r => r.GetString()));

        // stream: true, read by the SDK's AssistantStream: OpenAI's event names, text deltas, the final run and message.
        var stream = seen.GetProperty("stream");
        Assert.Equal(["thread.run.created", "thread.run.queued", "thread.run.in_progress", "thread.run.step.created", "thread.run.step.in_progress",
            "thread.message.created", "thread.message.in_progress", "thread.message.delta", "thread.message.completed", "thread.run.step.completed", "thread.run.completed"],
            stream.GetProperty("events").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal("completed", stream.GetProperty("status").GetString());
        Assert.Contains("Now stream it, please.", stream.GetProperty("deltas").GetString(), StringComparison.Ordinal);
        Assert.Equal(stream.GetProperty("deltas").GetString(), stream.GetProperty("message").GetString());

        // A function tool through requires_action and submit_tool_outputs (the local model calls the tool the prompt names).
        var tools = seen.GetProperty("tools");
        Assert.Equal("requires_action", tools.GetProperty("waiting").GetString());
        Assert.True(tools.GetProperty("expires").GetBoolean());
        Assert.Equal("get_plays", tools.GetProperty("tool").GetString());
        Assert.Equal(JsonValueKind.Number, tools.GetProperty("arguments").GetProperty("screen").ValueKind); // the tool's schema says integer
        Assert.Equal("thread_run_active", tools.GetProperty("busy").GetString());
        Assert.Equal("completed", tools.GetProperty("status").GetString());
        Assert.Contains("get_plays returned {\"plays\": 41}", tools.GetProperty("answer").GetString(), StringComparison.Ordinal);
        // Its steps: the round of calls with the output given, then the answer's message.
        var steps = tools.GetProperty("steps").EnumerateArray().ToList();
        Assert.Equal(["tool_calls", "message_creation"], steps.Select(s => s.GetProperty("type").GetString()));
        Assert.All(steps, s => Assert.Equal(("thread.run.step", "completed"), (s.GetProperty("object").GetString(), s.GetProperty("status").GetString())));
        Assert.Equal("{\"plays\": 41}", steps[0].GetProperty("output").GetString());
        Assert.StartsWith("msg_", steps[1].GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.True(tools.GetProperty("lastStep").GetBoolean());

        var oneCall = seen.GetProperty("oneCall");
        Assert.Equal("completed", oneCall.GetProperty("status").GetString());
        Assert.Equal("completed", oneCall.GetProperty("extra").GetString());
        Assert.Equal(["user", "assistant", "user", "assistant"], oneCall.GetProperty("roles").EnumerateArray().Select(r => r.GetString()));
        Assert.Equal("And the quietest?", oneCall.GetProperty("second").GetString());
        Assert.Equal("yes", oneCall.GetProperty("tagged").GetString());
        Assert.True(oneCall.GetProperty("removed").GetBoolean());
        Assert.Equal(3, oneCall.GetProperty("left").GetInt32());

        Assert.Equal("NotFoundError", seen.GetProperty("stranger").GetProperty("name").GetString());
        Assert.Equal(404, seen.GetProperty("stranger").GetProperty("status").GetInt32());
        Assert.Equal("not_found", seen.GetProperty("stranger").GetProperty("code").GetString());
        Assert.Equal("BadRequestError", seen.GetProperty("invalid").GetProperty("name").GetString());
        Assert.Equal("validation_failed", seen.GetProperty("invalid").GetProperty("code").GetString());
        Assert.Equal("limit", seen.GetProperty("invalid").GetProperty("param").GetString());
        Assert.True(seen.GetProperty("deleted").GetBoolean());
        Assert.True(seen.GetProperty("assistantDeleted").GetBoolean());
    }
}
