using System.Runtime.CompilerServices;
using Anthropic;
using Anthropic.Core;
using Anthropic.Exceptions;
using Microsoft.Extensions.AI;

namespace AiPrompts.Core.Vendors;

/// <summary>
/// Claude through the Anthropic SDK's own <c>AsIChatClient</c>, with the SDK's retries off (the job engine
/// owns them) and its exceptions turned into <see cref="VendorException"/>s with stable codes.
/// </summary>
public sealed class AnthropicChatClient : DelegatingChatClient
{
    private const int DefaultMaxOutputTokens = 1024;
    private readonly VendorTarget _target;

    public AnthropicChatClient(VendorTarget target, HttpClient http)
        : base(CreateInner(target, http))
    {
        _target = target;
    }

    private static IChatClient CreateInner(VendorTarget target, HttpClient http)
    {
        var client = new AnthropicClient(new ClientOptions
        {
            ApiKey = target.Credential?.Secret ?? "no-key",
            BaseUrl = (target.BaseUrl ?? "https://api.anthropic.com").TrimEnd('/'),
            HttpClient = http,
            MaxRetries = 0,
            Timeout = Timeout.InfiniteTimeSpan,
        });
        return client.AsIChatClient(target.ModelId, DefaultMaxOutputTokens);
    }

    public override async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        using var capture = VendorResponseCapture.Begin();
        try
        {
            return await base.GetResponseAsync(messages, options, cancellationToken);
        }
        catch (Exception ex) when (Translate(ex, capture, cancellationToken) is { } vendor)
        {
            throw vendor;
        }
    }

    public override async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(
        IEnumerable<ChatMessage> messages, ChatOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        using var capture = VendorResponseCapture.Begin();
        await using var enumerator = base.GetStreamingResponseAsync(messages, options, cancellationToken).GetAsyncEnumerator(cancellationToken);
        while (true)
        {
            try
            {
                if (!await enumerator.MoveNextAsync())
                {
                    yield break;
                }
            }
            catch (Exception ex) when (Translate(ex, capture, cancellationToken) is { } vendor)
            {
                throw vendor;
            }
            yield return enumerator.Current;
        }
    }

    private VendorException? Translate(Exception exception, VendorResponseCapture capture, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested || exception is VendorException)
        {
            return null;
        }
        return exception switch
        {
            AnthropicApiException api => Rebuild(api, capture),
            AnthropicException or HttpRequestException or IOException or TaskCanceledException => VendorErrors.Unreachable(_target, exception),
            _ => null,
        };
    }

    private VendorException Rebuild(AnthropicApiException api, VendorResponseCapture capture)
    {
        var status = (int)api.StatusCode;
        // Anthropic's "overloaded_error" is 529: an outage, like any 5xx.
        var body = api.ResponseBody is { Length: > 0 } raw ? raw : $"{{\"error\":{{\"message\":{System.Text.Json.JsonSerializer.Serialize(api.ApiMessage ?? api.Message)}}}}}";
        return VendorErrors.FromHttp(_target, status, body, capture.RetryAfter);
    }
}

/// <summary>
/// Lets an adapter see the headers of the vendor's answer (Retry-After) when the SDK it wraps does not
/// expose them. The vendors' HttpClient records into the capture of the current call.
/// </summary>
public sealed class VendorResponseCapture : IDisposable
{
    private static readonly AsyncLocal<VendorResponseCapture?> CurrentCapture = new();
    private readonly VendorResponseCapture? _previous;

    private VendorResponseCapture()
    {
        _previous = CurrentCapture.Value;
        CurrentCapture.Value = this;
    }

    public string? RetryAfter { get; private set; }

    public static VendorResponseCapture Begin() => new();

    internal static void Record(HttpResponseMessage response)
    {
        if (CurrentCapture.Value is { } capture && !response.IsSuccessStatusCode)
        {
            capture.RetryAfter = response.Headers.RetryAfter switch
            {
                { Delta: { } delta } => ((int)delta.TotalSeconds).ToString(System.Globalization.CultureInfo.InvariantCulture),
                { Date: { } date } => date.ToString("R", System.Globalization.CultureInfo.InvariantCulture),
                _ => null,
            };
        }
    }

    public void Dispose() => CurrentCapture.Value = _previous;
}

/// <summary>The handler on the vendors' HttpClient that feeds <see cref="VendorResponseCapture"/>.</summary>
public sealed class VendorResponseCaptureHandler : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var response = await base.SendAsync(request, cancellationToken);
        VendorResponseCapture.Record(response);
        return response;
    }
}
