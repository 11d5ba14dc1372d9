using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AiPrompts.Web.Tests;

/// <summary>
/// An OpenAI-compatible vendor on loopback (chat completions, whole or streamed with usage; the model list), so a
/// custom provider's calls go over real HTTP through the Api's own vendor client. It answers "Hello from the fake
/// vendor" and remembers the keys it was called with.
/// </summary>
public sealed class FakeVendor : IAsyncDisposable
{
    public const string Answer = "Hello from the fake vendor";
    public const string Model = "fake-chat";
    private readonly WebApplication _app;

    private FakeVendor(WebApplication app, Uri baseUrl) => (_app, BaseUrl) = (app, baseUrl);

    /// <summary>Where the provider is: <c>http://127.0.0.1:{port}/v1</c>.</summary>
    public Uri BaseUrl { get; }

    /// <summary>The Authorization header of every call, in order.</summary>
    public ConcurrentQueue<string> Authorizations { get; } = new();

    public static async Task<FakeVendor> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        FakeVendor? vendor = null;
        app.MapGet("/v1/models", () => Results.Json(new { @object = "list", data = new[] { new { id = Model, @object = "model", owned_by = "fake" } } }));
        app.MapPost("/v1/chat/completions", async (HttpContext http) =>
        {
            vendor!.Authorizations.Enqueue(http.Request.Headers.Authorization.ToString());
            using var body = await JsonDocument.ParseAsync(http.Request.Body);
            var stream = body.RootElement.TryGetProperty("stream", out var s) && s.ValueKind == JsonValueKind.True;
            var usage = new { prompt_tokens = 5, completion_tokens = 5, total_tokens = 10 };
            if (!stream)
            {
                await http.Response.WriteAsJsonAsync(new
                {
                    id = "chatcmpl-fake", @object = "chat.completion", created = 0, model = Model,
                    choices = new[] { new { index = 0, message = new { role = "assistant", content = Answer }, finish_reason = "stop" } },
                    usage,
                });
                return;
            }
            http.Response.ContentType = "text/event-stream";
            async Task SendAsync(object chunk)
            {
                await http.Response.WriteAsync($"data: {JsonSerializer.Serialize(chunk)}\n\n");
                await http.Response.Body.FlushAsync();
            }
            foreach (var word in Answer.Split(' ').Select((w, i) => i == 0 ? w : " " + w))
            {
                await SendAsync(new { id = "chatcmpl-fake", @object = "chat.completion.chunk", created = 0, model = Model,
                    choices = new[] { new { index = 0, delta = new { role = "assistant", content = word }, finish_reason = (string?)null } } });
            }
            await SendAsync(new { id = "chatcmpl-fake", @object = "chat.completion.chunk", created = 0, model = Model,
                choices = new[] { new { index = 0, delta = new { }, finish_reason = "stop" } } });
            await SendAsync(new { id = "chatcmpl-fake", @object = "chat.completion.chunk", created = 0, model = Model, choices = Array.Empty<object>(), usage });
            await http.Response.WriteAsync("data: [DONE]\n\n");
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        vendor = new FakeVendor(app, new Uri($"{address}/v1"));
        return vendor;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
