using System.ClientModel;
using System.ClientModel.Primitives;
using System.Net.Http.Json;
using System.Text.Json;
using OpenAI;

namespace AiPrompts.Tests.Infrastructure;

/// <summary>Callers of the OpenAI-compatible surface: a user with an API key, and the official SDK pointed at the Api with it.</summary>
public static class OpenAICallers
{
    /// <summary>A new user of <paramref name="role"/> and an API key of theirs with <paramref name="scopes"/> (the prompts scope when none).</summary>
    public static async Task<(TestUser User, string Key)> CreateAsync(ApiFactory api, string role, IReadOnlyList<string>? scopes, CancellationToken cancellationToken)
    {
        var user = await api.CreateUserAsync(role);
        using var client = api.CreateClient(user.Token);
        var made = await client.PostAsJsonAsync("/api/v1/api-keys", new { name = "sdk", scopes = scopes is { Count: > 0 } ? scopes : ["prompts"] }, cancellationToken);
        var text = await made.Content.ReadAsStringAsync(cancellationToken);
        Assert.True(made.IsSuccessStatusCode, text);
        return (user, JsonDocument.Parse(text).RootElement.GetProperty("data").GetProperty("key").GetString()!);
    }

    /// <summary>The SDK at <c>/openai/v1</c> with the key (no retries), naming a purpose by header when given one.</summary>
    public static OpenAIClient Sdk(ApiFactory api, string key, string? purpose = null)
    {
        var http = api.CreateClient();
        if (purpose is not null)
        {
            http.DefaultRequestHeaders.Add("X-AiPrompts-Purpose", purpose);
        }
        return new OpenAIClient(new ApiKeyCredential(key), new OpenAIClientOptions
        {
            Endpoint = new Uri(api.ClientOptions.BaseAddress, "/openai/v1"),
            Transport = new HttpClientPipelineTransport(http),
            RetryPolicy = new ClientRetryPolicy(maxRetries: 0),
        });
    }
}
