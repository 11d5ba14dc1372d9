using AiPrompts.Api.Errors;
using AiPrompts.Core.Gateway;
using AiPrompts.Core.Providers;
using AiPrompts.Core.Vendors;
using Microsoft.Extensions.AI;

namespace AiPrompts.Api.Gateway;

/// <summary><c>POST /openai/v1/chat/completions</c>: checked, admitted, called through the vendor's <c>IChatClient</c>, answered whole or streamed.</summary>
internal static class ChatCompletionsApi
{
    internal static async Task<IResult> CreateAsync(
        ChatCompletionRequest body, HttpContext http, GatewayAdmission admission, VendorClientFactory vendors, TimeProvider time, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        if (ChatCompletionInput.From(body, errors) is not { } input)
        {
            return ApiProblem.Validation(errors);
        }
        var required = new List<string> { Capabilities.Chat };
        if (input.Options.Tools is { Count: > 0 })
        {
            required.Add(Capabilities.Tools);
        }
        if (input.Options.ResponseFormat is ChatResponseFormatJson json)
        {
            required.Add(json.Schema is null ? Capabilities.Json : Capabilities.JsonSchema);
        }
        var ask = new GatewayAsk(GatewaySurfaces.ChatCompletion, required, Sections.Chat, body.Model, input.InputCharacters, input.Options.MaxOutputTokens,
            body.Metadata?.GetValueOrDefault("purpose"));
        var (call, refusal) = await admission.BeginAsync(http, ask, cancellationToken);
        if (call is null)
        {
            return refusal!;
        }
        var id = $"chatcmpl-{call.Id:N}";
        var created = time.GetUtcNow().ToUnixTimeSeconds();
        var client = vendors.CreateChatClient(call.Target);
        if (input.Stream)
        {
            return await ChatCompletionStream.StartAsync(call, client, input, id, created, http, cancellationToken);
        }
        try
        {
            call.VendorStarting(streaming: false);
            var response = await client.GetResponseAsync(input.Messages, input.Options, cancellationToken);
            call.VendorAnswered();
            call.Succeeded(MeteredUsage.From(response.AdditionalProperties));
            var answer = ChatCompletionWriter.Completion(id, call.Model, created, response, response.Usage);
            call.AnswerReady();
            return TypedResults.Bytes(answer, "application/json");
        }
        catch (VendorException ex)
        {
            call.Failed(ex);
            return GatewayApi.VendorProblem(http, ex);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            call.Stopped(GatewayApi.Estimate(call.Target, input.InputCharacters, 0, TimeSpan.Zero));
            throw;
        }
        finally
        {
            client.Dispose();
        }
    }
}

/// <summary>
/// A streamed chat completion: the first update is awaited before the answer starts, so a vendor's refusal is still an
/// HTTP error; then each update is a <c>chat.completion.chunk</c> event, the usage chunk when asked for, and <c>[DONE]</c>.
/// A client that goes away cancels the vendor call, and the call is recorded with what was streamed until then.
/// </summary>
internal sealed class ChatCompletionStream : IResult, IAsyncDisposable
{
    private static readonly byte[] Data = "data: "u8.ToArray();
    private static readonly byte[] End = "\n\n"u8.ToArray();
    private static readonly byte[] Done = "data: [DONE]\n\n"u8.ToArray();

    private readonly GatewayCallScope _call;
    private readonly IChatClient _client;
    private readonly IAsyncEnumerator<ChatResponseUpdate> _updates;
    private readonly ChatCompletionInput _input;
    private readonly string _id;
    private readonly long _created;
    private bool _hasFirst;
    private int _disposed;

    private ChatCompletionStream(GatewayCallScope call, IChatClient client, IAsyncEnumerator<ChatResponseUpdate> updates, ChatCompletionInput input, string id, long created)
    {
        (_call, _client, _updates, _input, _id, _created) = (call, client, updates, input, id, created);
    }

    public static async Task<IResult> StartAsync(GatewayCallScope call, IChatClient client, ChatCompletionInput input, string id, long created, HttpContext http, CancellationToken cancellationToken)
    {
        call.VendorStarting(streaming: true);
        var stream = new ChatCompletionStream(call, client, client.GetStreamingResponseAsync(input.Messages, input.Options, cancellationToken).GetAsyncEnumerator(cancellationToken), input, id, created);
        try
        {
            stream._hasFirst = await stream._updates.MoveNextAsync();
            return stream;
        }
        catch (VendorException ex)
        {
            call.Failed(ex);
            await stream.DisposeAsync();
            return GatewayApi.VendorProblem(http, ex);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            call.Stopped(GatewayApi.Estimate(call.Target, input.InputCharacters, 0, TimeSpan.Zero));
            await stream.DisposeAsync();
            throw;
        }
    }

    public async Task ExecuteAsync(HttpContext httpContext)
    {
        var response = httpContext.Response;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        var body = response.Body;
        var cancellationToken = httpContext.RequestAborted;
        MeteredUsage? metered = null;
        long streamed = 0;
        var first = true;
        try
        {
            for (var has = _hasFirst; has; has = await _updates.MoveNextAsync())
            {
                var update = _updates.Current;
                if (MeteredUsage.From(update.AdditionalProperties) is { } usage)
                {
                    metered = usage;
                }
                var text = update.Text;
                var calls = update.Contents.OfType<FunctionCallContent>().ToList();
                if (text.Length == 0 && calls.Count == 0 && update.FinishReason is null)
                {
                    continue;
                }
                streamed += text.Length;
                await WriteAsync(body, ChatCompletionWriter.Chunk(_id, _call.Model, _created, first, text, calls, update.FinishReason), cancellationToken);
                first = false;
            }
            _call.VendorAnswered();
            if (_input.IncludeUsage)
            {
                var usage = new UsageDetails
                {
                    InputTokenCount = metered?.InputTokens ?? 0,
                    OutputTokenCount = metered?.OutputTokens ?? 0,
                    CachedInputTokenCount = metered?.CachedInputTokens ?? 0,
                    ReasoningTokenCount = metered?.ReasoningTokens ?? 0,
                };
                await WriteAsync(body, ChatCompletionWriter.UsageChunk(_id, _call.Model, _created, usage), cancellationToken);
            }
            await body.WriteAsync(Done, cancellationToken);
            await body.FlushAsync(cancellationToken);
            _call.Succeeded(metered);
        }
        catch (VendorException ex)
        {
            _call.Failed(ex);
            // The answer has begun: the error travels as an event, in the same shape as an error answer.
            var problem = new OpenAIErrorBody(new OpenAIError(ex.VendorMessage, ex.Code.Status >= 500 ? "server_error" : "invalid_request_error", null, ex.Code.Code, null, null, null, null));
            await WriteAsync(body, System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(problem), CancellationToken.None);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            _call.Stopped(metered ?? GatewayApi.Estimate(_call.Target, _input.InputCharacters, streamed, TimeSpan.Zero));
        }
        finally
        {
            await DisposeAsync();
        }
    }

    private static async Task WriteAsync(Stream body, byte[] chunk, CancellationToken cancellationToken)
    {
        await body.WriteAsync(Data, cancellationToken);
        await body.WriteAsync(chunk, cancellationToken);
        await body.WriteAsync(End, cancellationToken);
        await body.FlushAsync(cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }
        await _updates.DisposeAsync();
        _client.Dispose();
    }
}
