using System.ClientModel;
using System.ClientModel.Primitives;
using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Microsoft.Extensions.AI;
using OpenAI.Chat;
using ChatFinishReason = Microsoft.Extensions.AI.ChatFinishReason;
using ChatMessage = Microsoft.Extensions.AI.ChatMessage;

namespace AiPrompts.Core.Vendors;

/// <summary>
/// An <see cref="IChatClient"/> for every OpenAI-compatible chat completions API (OpenAI, OpenRouter,
/// Gemini's compatible endpoint, custom base URLs). It sends through the OpenAI SDK's pipeline and protocol
/// method, and reads the JSON and SSE itself: vendors send values the SDK's typed model rejects, such as
/// OpenRouter's <c>finish_reason: "error"</c> and its <c>usage.cost</c>.
/// </summary>
public sealed class OpenAICompatibleChatClient : IChatClient
{
    /// <summary>The key under which a vendor-reported cost (US dollars) is put in AdditionalProperties.</summary>
    public const string VendorCostKey = "aiprompts.vendor_cost";

    private readonly ChatClient _client;
    private readonly VendorTarget _target;
    private readonly IReadOnlyList<KeyValuePair<string, string>> _headers;
    private readonly ChatClientMetadata _metadata;

    public OpenAICompatibleChatClient(VendorTarget target, HttpClient http, IReadOnlyList<KeyValuePair<string, string>>? extraHeaders = null)
    {
        _target = target;
        _headers = extraHeaders ?? [];
        var options = OpenAIProtocol.Options(target, http);
        _client = new ChatClient(target.ModelId, OpenAIProtocol.Credential(target), options);
        _metadata = new ChatClientMetadata(target.TelemetryName, options.Endpoint, target.ModelId);
    }

    public async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        using var body = OpenAIChatJson.WriteRequest(_target.ModelId, messages, options, stream: false);
        var response = await SendAsync(body, buffer: true, cancellationToken);
        using var document = JsonDocument.Parse(response.Content.ToMemory());
        return OpenAIChatJson.ReadResponse(document.RootElement, _target);
    }

    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(
        IEnumerable<ChatMessage> messages, ChatOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        using var body = OpenAIChatJson.WriteRequest(_target.ModelId, messages, options, stream: true);
        using var response = await SendAsync(body, buffer: false, cancellationToken);
        var stream = response.ContentStream ?? throw VendorErrors.Unreachable(_target, new IOException("The answer has no body."));
        var items = SseParser.Create(stream).EnumerateAsync(cancellationToken);
        await using var enumerator = items.GetAsyncEnumerator(cancellationToken);
        while (true)
        {
            SseItem<string> item;
            try
            {
                if (!await enumerator.MoveNextAsync())
                {
                    yield break;
                }
                item = enumerator.Current;
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested && VendorErrors.IsNetworkFailure(ex))
            {
                throw VendorErrors.Unreachable(_target, ex);
            }
            if (item.Data is "[DONE]")
            {
                yield break;
            }
            if (string.IsNullOrWhiteSpace(item.Data))
            {
                continue;
            }
            using var chunk = JsonDocument.Parse(item.Data);
            foreach (var update in OpenAIChatJson.ReadChunk(chunk.RootElement, _target))
            {
                yield return update;
            }
        }
    }

    private async Task<PipelineResponse> SendAsync(BinaryContent body, bool buffer, CancellationToken cancellationToken)
    {
        var requestOptions = new RequestOptions
        {
            CancellationToken = cancellationToken,
            ErrorOptions = ClientErrorBehaviors.NoThrow,
            BufferResponse = buffer,
        };
        foreach (var (name, value) in _headers)
        {
            requestOptions.SetHeader(name, value);
        }
        PipelineResponse response;
        try
        {
            var result = await _client.CompleteChatAsync(body, requestOptions);
            response = result.GetRawResponse();
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested && ex is ClientResultException or HttpRequestException or IOException or TaskCanceledException)
        {
            throw VendorErrors.Unreachable(_target, ex);
        }
        if (!response.IsError)
        {
            return response;
        }
        using (response)
        {
            if (!buffer)
            {
                await response.BufferContentAsync(cancellationToken);
            }
            response.Headers.TryGetValue("Retry-After", out var retryAfter);
            throw VendorErrors.FromHttp(_target, response.Status, response.Content.ToString(), retryAfter);
        }
    }

    public object? GetService(Type serviceType, object? serviceKey = null) =>
        serviceKey is not null ? null
        : serviceType == typeof(ChatClientMetadata) ? _metadata
        : serviceType.IsInstanceOfType(this) ? this
        : null;

    public void Dispose()
    {
        // The HttpClient belongs to the factory's pool.
    }
}
