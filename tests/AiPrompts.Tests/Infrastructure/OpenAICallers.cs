using System.ClientModel;
using System.ClientModel.Primitives;
using System.Net.Http.Json;
using System.Runtime.CompilerServices;
using System.Text.Json;
using AiPrompts.Tests.Fuzzing;
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

    private static readonly ConditionalWeakTable<ApiFactory, OpenApiFuzzer> Documents = [];

    /// <summary>
    /// The SDK at <c>/openai/v1</c> with the key (no retries), naming a purpose by header when given one. Every answer it
    /// gets is checked against what the Api's own OpenAPI document declares (<see cref="DocumentedAnswers"/>).
    /// </summary>
    public static OpenAIClient Sdk(ApiFactory api, string key, string? purpose = null)
    {
        var document = Documents.GetValue(api, Load);
        var http = api.CreateDefaultClient(api.ClientOptions.BaseAddress, new DocumentedAnswers(document));
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

    private static OpenApiFuzzer Load(ApiFactory api)
    {
        using var client = api.CreateClient();
        var document = JsonDocument.Parse(client.GetStringAsync("/openapi/v1.json").GetAwaiter().GetResult()).RootElement.Clone();
        return new OpenApiFuzzer(api.CreateClient(), document);
    }

    /// <summary>Fails a call whose answer does not fit what the document declares for it (streams are not checked).</summary>
    private sealed class DocumentedAnswers(OpenApiFuzzer document) : DelegatingHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var response = await base.SendAsync(request, cancellationToken);
            if (response.Content.Headers.ContentType?.MediaType is "text/event-stream")
            {
                return response;
            }
            await response.Content.LoadIntoBufferAsync(cancellationToken);
            var body = await response.Content.ReadAsStringAsync(cancellationToken);
            return document.CheckAnswer(request, response, body) is { } mismatch
                ? throw new InvalidOperationException($"{request.Method} {request.RequestUri!.AbsolutePath} answered {(int)response.StatusCode} unlike the OpenAPI document: {mismatch}\n{body}")
                : response;
        }
    }
}
