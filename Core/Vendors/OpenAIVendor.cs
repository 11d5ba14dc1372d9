using System.ClientModel;
using System.ClientModel.Primitives;
using System.Text.Json;
using Microsoft.Extensions.AI;
using OpenAI;
using OpenAI.Chat;

namespace AiPrompts.Core.Vendors;

#pragma warning disable MEAI001 // AsIImageGenerator and AsITextToSpeechClient are experimental in Microsoft.Extensions.AI.OpenAI 10.x.

/// <summary>
/// Every OpenAI-compatible vendor (OpenAI, OpenRouter, Gemini's compatible endpoint, custom base URLs) through
/// the OpenAI SDK and Microsoft.Extensions.AI's adapters over it: our pooled, SSRF-checked HttpClient as the
/// transport, the SDK's retries off (the job engine owns retries and sees every attempt), no SDK timeout
/// (the callers' timeouts bound each call), and the vendor's own headers as a pipeline policy.
/// </summary>
internal static class OpenAIVendor
{
    public static IChatClient Chat(VendorTarget target, HttpClient http, IReadOnlyList<KeyValuePair<string, string>> headers) =>
        Client(target, http, headers).GetChatClient(target.ModelId).AsIChatClient();

    public static IImageGenerator Images(VendorTarget target, HttpClient http) =>
        Client(target, http, []).GetImageClient(target.ModelId).AsIImageGenerator();

    public static IEmbeddingGenerator<string, Embedding<float>> Embeddings(VendorTarget target, HttpClient http) =>
        Client(target, http, []).GetEmbeddingClient(target.ModelId).AsIEmbeddingGenerator();

    public static ITextToSpeechClient Speech(VendorTarget target, HttpClient http) =>
        Client(target, http, []).GetAudioClient(target.ModelId).AsITextToSpeechClient();

    private static OpenAIClient Client(VendorTarget target, HttpClient http, IReadOnlyList<KeyValuePair<string, string>> headers)
    {
        var options = new OpenAIClientOptions
        {
            Endpoint = new Uri((target.BaseUrl ?? throw new ArgumentException("An OpenAI-compatible provider needs a base URL.", nameof(target))).TrimEnd('/')),
            Transport = new HttpClientPipelineTransport(http),
            RetryPolicy = new ClientRetryPolicy(maxRetries: 0),
            NetworkTimeout = Timeout.InfiniteTimeSpan,
        };
        if (headers.Count > 0)
        {
            options.AddPolicy(new HeadersPolicy(headers), PipelinePosition.PerCall);
        }
        return new OpenAIClient(new ApiKeyCredential(target.Credential?.Secret ?? "no-key"), options);
    }

    /// <summary>
    /// The limit on the answer's length as <c>max_tokens</c>, which every OpenAI-compatible server reads
    /// (the SDK would send <c>max_completion_tokens</c>, which Gemini's and many self-hosted endpoints do not).
    /// </summary>
    public static ChatOptions? WithMaxTokens(ChatOptions? options)
    {
        if (options?.MaxOutputTokens is not { } max || options.RawRepresentationFactory is not null)
        {
            return options;
        }
        var adjusted = options.Clone();
        adjusted.MaxOutputTokens = null;
        adjusted.RawRepresentationFactory = _ =>
        {
            var raw = new ChatCompletionOptions();
#pragma warning disable SCME0001 // JsonPatch: the supported way to send a field the typed model does not have.
            raw.Patch.Set("$.max_tokens"u8, max);
#pragma warning restore SCME0001
            return raw;
        };
        return adjusted;
    }

    /// <summary>
    /// Images as bytes (<c>response_format: b64_json</c>), not as links that expire within the hour, for the
    /// models that take the field; OpenAI's gpt-image models always answer in base64 and refuse it.
    /// </summary>
    public static ImageGenerationOptions? WithImageData(ImageGenerationOptions? options, string modelId)
    {
        if (options?.ResponseFormat is not null || modelId.StartsWith("gpt-image", StringComparison.Ordinal))
        {
            return options;
        }
        var adjusted = options?.Clone() ?? new ImageGenerationOptions();
        adjusted.ResponseFormat = ImageGenerationResponseFormat.Data;
        return adjusted;
    }

    /// <summary>The cost a vendor reported beside the usage (OpenRouter's <c>usage.cost</c>, US dollars), which the typed model does not carry.</summary>
    public static decimal? ReportedCost(object? rawRepresentation)
    {
        var usage = rawRepresentation switch
        {
            ChatCompletion completion => completion.Usage,
            StreamingChatCompletionUpdate update => update.Usage,
            _ => null,
        };
        if (usage is null)
        {
            return null;
        }
        using var json = JsonDocument.Parse(ModelReaderWriter.Write(usage));
        return json.RootElement.TryGetProperty("cost", out var cost) && cost.ValueKind == JsonValueKind.Number && cost.TryGetDecimal(out var value) ? value : null;
    }

    private sealed class HeadersPolicy(IReadOnlyList<KeyValuePair<string, string>> headers) : PipelinePolicy
    {
        public override void Process(PipelineMessage message, IReadOnlyList<PipelinePolicy> pipeline, int currentIndex)
        {
            Apply(message);
            ProcessNext(message, pipeline, currentIndex);
        }

        public override ValueTask ProcessAsync(PipelineMessage message, IReadOnlyList<PipelinePolicy> pipeline, int currentIndex)
        {
            Apply(message);
            return ProcessNextAsync(message, pipeline, currentIndex);
        }

        private void Apply(PipelineMessage message)
        {
            foreach (var (name, value) in headers)
            {
                message.Request.Headers.Set(name, value);
            }
        }
    }
}
