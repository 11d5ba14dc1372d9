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
        ChatCompletionRequest body, HttpContext http, GatewayAdmission admission, VendorClientPool vendors, TimeProvider time, CancellationToken cancellationToken)
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
        var client = vendors.Chat(call.Target);
        if (input.Stream)
        {
            return await new ChatCompletionStream(call, client, input, id, created).StartAsync(input.Messages, input.Options, http, cancellationToken);
        }
        var (response, refused) = await call.CallAsync(token => client.GetResponseAsync(input.Messages, input.Options, token), cancellationToken);
        if (response is null)
        {
            return refused!;
        }
        call.Succeeded(MeteredUsage.From(response.AdditionalProperties));
        var answer = ChatCompletionWriter.Completion(id, call.Model, created, response);
        call.AnswerReady();
        return TypedResults.Bytes(answer, "application/json");
    }
}

/// <summary>
/// A streamed chat completion: each update a <c>chat.completion.chunk</c> event, the usage chunk when asked for
/// (<c>stream_options.include_usage</c>), and <c>[DONE]</c>.
/// </summary>
internal sealed class ChatCompletionStream(GatewayCallScope call, IChatClient client, ChatCompletionInput input, string id, long created) : GatewayStream(call, client)
{
    private static readonly byte[] Data = "data: "u8.ToArray();
    private static readonly byte[] End = "\n\n"u8.ToArray();
    private static readonly byte[] Done = "data: [DONE]\n\n"u8.ToArray();

    protected override async Task WriteEventsAsync(HttpResponse response, CancellationToken cancellationToken)
    {
        var first = true;
        await foreach (var update in UpdatesAsync())
        {
            var text = update.Text;
            var calls = update.Contents.OfType<FunctionCallContent>().ToList();
            if (text.Length == 0 && calls.Count == 0 && update.FinishReason is null)
            {
                continue;
            }
            Streamed += text.Length;
            await WriteAsync(response.Body, ChatCompletionWriter.Chunk(id, Call.Model, created, first, text, calls, update.FinishReason), cancellationToken);
            first = false;
        }
        if (input.IncludeUsage)
        {
            await WriteAsync(response.Body, ChatCompletionWriter.UsageChunk(id, Call.Model, created, Usage()), cancellationToken);
        }
        await response.Body.WriteAsync(Done, cancellationToken);
        await response.Body.FlushAsync(cancellationToken);
        Call.Succeeded(Metered);
    }

    /// <summary>The answer has begun: the error travels as an event, in the same shape as an error answer.</summary>
    protected override Task WriteErrorAsync(HttpResponse response, VendorException error) => WriteAsync(response.Body,
        System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(new OpenAIErrorBody(new OpenAIError(error.VendorMessage,
            error.Code.Status >= 500 ? "server_error" : "invalid_request_error", null, error.Code.Code, null, null, null, null))), CancellationToken.None);

    private static async Task WriteAsync(Stream body, byte[] chunk, CancellationToken cancellationToken)
    {
        await body.WriteAsync(Data, cancellationToken);
        await body.WriteAsync(chunk, cancellationToken);
        await body.WriteAsync(End, cancellationToken);
        await body.FlushAsync(cancellationToken);
    }
}
