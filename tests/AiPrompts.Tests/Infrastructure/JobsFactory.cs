using System.Net.Http.Json;
using System.Text.Json;

namespace AiPrompts.Tests.Infrastructure;

/// <summary>
/// The Api with the fake vendor (see <see cref="AiFactory"/>), short job-engine timings, and Worker
/// processes started on demand with the same settings.
/// </summary>
public class JobsFactory : AiFactory
{
    protected virtual IReadOnlyDictionary<string, string?> JobSettings => new Dictionary<string, string?>
    {
        ["Jobs:Concurrency"] = "4",
        ["Jobs:LeaseDuration"] = "00:00:05",
        ["Jobs:HeartbeatInterval"] = "00:00:00.500",
        ["Jobs:PollInterval"] = "00:00:01",
        ["Jobs:IdlePollInterval"] = "00:00:01",
        ["Jobs:RetryBaseDelay"] = "00:00:00.050",
        ["Jobs:RetryMaxDelay"] = "00:00:00.200",
        ["Jobs:ShutdownGrace"] = "00:00:02",
    };

    protected override IReadOnlyDictionary<string, string?> Settings =>
        base.Settings.Concat(JobSettings).GroupBy(p => p.Key).ToDictionary(g => g.Key, g => g.Last().Value);

    public async Task<WorkerProcess> StartWorkerAsync(IReadOnlyDictionary<string, string>? environment = null)
    {
        var worker = WorkerProcess.Start(this, environment);
        await worker.WaitUntilRunningAsync();
        return worker;
    }

    /// <summary>Gives the user a personal OpenAI key, so their requests go to the fake vendor.</summary>
    public async Task SetOpenAiKeyAsync(TestUser user)
    {
        using var client = CreateClient(user.Token);
        var response = await client.PutAsJsonAsync("/api/v1/ai/providers/openai/personal-key", new { key = "sk-test-personal-0123456789" });
        response.EnsureSuccessStatusCode();
    }

    /// <summary>Polls a request until its status is final.</summary>
    public static async Task<JsonElement> WaitForFinalAsync(HttpClient client, Guid id, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        while (true)
        {
            using var body = JsonDocument.Parse(await client.GetStringAsync($"/api/v1/prompt-requests/{id}"));
            var data = body.RootElement.GetProperty("data").Clone();
            if (data.GetProperty("status").GetString() is "completed" or "failed" or "cancelled")
            {
                return data;
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Request {id} is still {data.GetProperty("status").GetString()}.");
            }
            await Task.Delay(50);
        }
    }
}
