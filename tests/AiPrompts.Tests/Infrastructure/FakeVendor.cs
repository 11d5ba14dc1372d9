using System.Text.Json;
using System.Collections.Concurrent;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AiPrompts.Tests.Infrastructure;

public sealed record RecordedRequest(string Method, string Path, IReadOnlyDictionary<string, string> Headers, string Body);

/// <summary>
/// A vendor on a real loopback socket (Kestrel), answering what the test scripts in <see cref="Handler"/>
/// with the vendor's real wire format, so the real adapters and SDKs are exercised end to end.
/// </summary>
public sealed class FakeVendor : IAsyncDisposable
{
    private readonly WebApplication _app;

    private FakeVendor(WebApplication app) => _app = app;

    public string Url { get; private set; } = "";
    public ConcurrentQueue<RecordedRequest> Requests { get; } = new();
    public Func<HttpContext, RecordedRequest, Task> Handler { get; set; } = (context, _) =>
    {
        context.Response.StatusCode = 404;
        return Task.CompletedTask;
    };

    public static async Task<FakeVendor> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var vendor = new FakeVendor(app);
        app.Run(async context =>
        {
            using var reader = new StreamReader(context.Request.Body, Encoding.UTF8);
            var body = await reader.ReadToEndAsync();
            var request = new RecordedRequest(context.Request.Method, context.Request.Path + context.Request.QueryString,
                context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase), body);
            vendor.Requests.Enqueue(request);
            await vendor.Handler(context, request);
        });
        await app.StartAsync();
        vendor.Url = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return vendor;
    }

    public static async Task JsonAsync(HttpContext context, int status, string json, IDictionary<string, string>? headers = null)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        foreach (var (name, value) in headers ?? new Dictionary<string, string>())
        {
            context.Response.Headers[name] = value;
        }
        await context.Response.WriteAsync(json);
    }

    /// <summary>Server-sent events as OpenAI streams them: one "data:" line per chunk, a blank line between.</summary>
    public static async Task SseAsync(HttpContext context, IEnumerable<string> dataLines)
    {
        context.Response.StatusCode = 200;
        context.Response.ContentType = "text/event-stream";
        foreach (var data in dataLines)
        {
            await context.Response.WriteAsync($"data: {data}\n\n");
            await context.Response.Body.FlushAsync();
        }
    }

    /// <summary>A streamed OpenAI chat completion of <paramref name="text"/> in one chunk, then usage and [DONE].</summary>
    public static Task ChatStreamAsync(HttpContext context, string text) => SseAsync(context,
    [
        JsonSerializer.Serialize(new { id = "c1", @object = "chat.completion.chunk", model = "gpt-4o-mini", choices = new[] { new { index = 0, delta = new { content = text }, finish_reason = "stop" } } }),
        """{"id":"c1","object":"chat.completion.chunk","model":"gpt-4o-mini","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":1,"total_tokens":4}}""",
        "[DONE]",
    ]);

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
