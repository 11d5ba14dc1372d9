using System.Diagnostics;
using System.Runtime.CompilerServices;
using AiPrompts.Core.Providers;
using Microsoft.Extensions.AI;

namespace AiPrompts.Core.Vendors;

#pragma warning disable MEAI001 // IImageGenerator and ITextToSpeechClient are experimental in Microsoft.Extensions.AI.Abstractions 10.x.

/// <summary>
/// What one call used and cost. Cost comes from the catalogue prices; VendorCost is what the vendor reported, when it does.
/// Cached input tokens are part of the input tokens, reasoning tokens part of the output tokens, as the vendors count them.
/// </summary>
public sealed record MeteredUsage(long InputTokens, long OutputTokens, decimal? Cost, decimal? VendorCost, TimeSpan Duration, long CachedInputTokens = 0, long ReasoningTokens = 0)
{
    public const string Key = "aiprompts.usage";

    private static readonly ConditionalWeakTable<ImageGenerationResponse, MeteredUsage> Images = [];

    public static MeteredUsage? From(AdditionalPropertiesDictionary? properties) =>
        properties is not null && properties.TryGetValue(Key, out var value) ? value as MeteredUsage : null;

    /// <summary>The usage in Microsoft.Extensions.AI's terms (zeros for what was not metered), for an answer's usage object.</summary>
    public static UsageDetails Details(MeteredUsage? metered) => new()
    {
        InputTokenCount = metered?.InputTokens ?? 0,
        OutputTokenCount = metered?.OutputTokens ?? 0,
        CachedInputTokenCount = metered?.CachedInputTokens ?? 0,
        ReasoningTokenCount = metered?.ReasoningTokens ?? 0,
    };

    /// <summary>An image answer has no property bag, so its metering is kept beside it for as long as it lives.</summary>
    public static MeteredUsage? From(ImageGenerationResponse response) => Images.TryGetValue(response, out var usage) ? usage : null;

    internal static MeteredUsage Of(UsageDetails? usage, decimal? vendorCost, ModelPrices prices, TimeSpan duration)
    {
        var input = usage?.InputTokenCount ?? 0;
        var output = usage?.OutputTokenCount ?? 0;
        return new MeteredUsage(input, output, prices.CostOf(input, output), vendorCost, duration, usage?.CachedInputTokenCount ?? 0, usage?.ReasoningTokenCount ?? 0);
    }

    internal static void Attach(ImageGenerationResponse response, MeteredUsage usage) => Images.AddOrUpdate(response, usage);
}

/// <summary>
/// Telemetry names. Spans and metrics are Microsoft.Extensions.AI's own (<c>UseOpenTelemetry</c>, the GenAI
/// semantic conventions) under this source; our layers add to its span what only we know.
/// </summary>
public static class VendorTelemetry
{
    public const string SourceName = "AiPrompts.GenAI";

    /// <summary>The stable code of a failed call, beside the conventions' <c>error.type</c> (the exception's type).</summary>
    public const string ErrorCodeTag = "aiprompts.error.code";

    public const string KeySourceTag = "aiprompts.key_source";

    internal static void Tag(string name, object? value)
    {
        if (Activity.Current is { Source.Name: SourceName, IsAllDataRequested: true } span)
        {
            span.SetTag(name, value);
        }
    }

    internal static VendorException Failed(VendorException error)
    {
        Tag(ErrorCodeTag, error.Code.Code);
        return error;
    }

    /// <summary>One vendor request bounded by <paramref name="total"/>, its failures mapped to our codes (images, speech).</summary>
    internal static async Task<T> GuardAsync<T>(VendorTarget target, TimeSpan total, Func<CancellationToken, Task<T>> call, CancellationToken cancellationToken)
    {
        using var vendorCall = VendorCall.Begin();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(total);
        try
        {
            return await call(timeout.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw Failed(VendorErrors.TimedOut(target, total));
        }
        catch (Exception ex) when (VendorErrors.From(ex, target, vendorCall, timeout.Token) is { } vendor)
        {
            throw Failed(vendor);
        }
    }

    internal static Uri? Endpoint(VendorTarget target) =>
        Uri.TryCreate(target.BaseUrl, UriKind.Absolute, out var uri) ? uri : null;
}

/// <summary>
/// The innermost layer over every vendor adapter: the SDKs' exceptions (and an error a vendor put inside a
/// 200 answer) become <see cref="VendorException"/>s with stable codes, the vendor-reported cost is read
/// from the raw answer, and the provider is named as we name it (OpenRouter is not "openai").
/// </summary>
public sealed class VendorChatClient(IChatClient inner, VendorTarget target) : DelegatingChatClient(inner)
{
    /// <summary>The key under which a vendor-reported cost (US dollars) is put in AdditionalProperties.</summary>
    public const string VendorCostKey = "aiprompts.vendor_cost";

    private readonly ChatClientMetadata _metadata = new(target.TelemetryName, VendorTelemetry.Endpoint(target), target.ModelId);

    public override async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        using var call = VendorCall.Begin();
        VendorTelemetry.Tag(VendorTelemetry.KeySourceTag, target.KeySource.ToString().ToLowerInvariant());
        ChatResponse response;
        try
        {
            response = await base.GetResponseAsync(messages, Adjust(options), cancellationToken);
        }
        catch (Exception ex) when (VendorErrors.From(ex, target, call, cancellationToken) is { } vendor)
        {
            throw VendorTelemetry.Failed(vendor);
        }
        if (call.TryGetErrorInBody(out var error))
        {
            throw VendorTelemetry.Failed(VendorErrors.InBody(target, error));
        }
        if (OpenAIVendor.ReportedCost(response.RawRepresentation) is { } cost)
        {
            (response.AdditionalProperties ??= [])[VendorCostKey] = cost;
        }
        return response;
    }

    public override async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(
        IEnumerable<ChatMessage> messages, ChatOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        using var call = VendorCall.Begin();
        VendorTelemetry.Tag(VendorTelemetry.KeySourceTag, target.KeySource.ToString().ToLowerInvariant());
        await using var enumerator = base.GetStreamingResponseAsync(messages, Adjust(options), cancellationToken).GetAsyncEnumerator(cancellationToken);
        while (true)
        {
            ChatResponseUpdate update;
            try
            {
                if (!await enumerator.MoveNextAsync())
                {
                    break;
                }
                update = enumerator.Current;
            }
            catch (Exception ex) when (VendorErrors.From(ex, target, call, cancellationToken) is { } vendor)
            {
                throw VendorTelemetry.Failed(vendor);
            }
            if (OpenAIVendor.ReportedCost(update.RawRepresentation) is { } cost) // null unless the update carries usage
            {
                (update.AdditionalProperties ??= [])[VendorCostKey] = cost;
            }
            yield return update;
            call.Resume();
        }
        if (call.TryGetErrorInBody(out var error))
        {
            throw VendorTelemetry.Failed(VendorErrors.InBody(target, error));
        }
    }

    private ChatOptions? Adjust(ChatOptions? options) =>
        target.ProviderKind == ProviderKinds.OpenAICompatible ? OpenAIVendor.WithMaxTokens(options) : options;

    public override object? GetService(Type serviceType, object? serviceKey = null) =>
        serviceKey is null && serviceType == typeof(ChatClientMetadata) ? _metadata : base.GetService(serviceType, serviceKey);
}

/// <summary>
/// Usage and cost metering: puts a <see cref="MeteredUsage"/> on every answer (on the last update of a
/// stream), priced from the catalogue, with the vendor-reported cost beside it.
/// </summary>
public sealed class MeteringChatClient(IChatClient inner, ModelPrices prices, TimeProvider time) : DelegatingChatClient(inner)
{
    public override async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        var started = time.GetTimestamp();
        var response = await base.GetResponseAsync(messages, options, cancellationToken);
        var vendorCost = response.AdditionalProperties?.TryGetValue(VendorChatClient.VendorCostKey, out var c) == true ? c as decimal? : null;
        (response.AdditionalProperties ??= [])[MeteredUsage.Key] = MeteredUsage.Of(response.Usage, vendorCost, prices, time.GetElapsedTime(started));
        return response;
    }

    public override async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(
        IEnumerable<ChatMessage> messages, ChatOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var started = time.GetTimestamp();
        var usage = new UsageDetails();
        decimal? vendorCost = null;
        string? responseId = null;
        await foreach (var update in base.GetStreamingResponseAsync(messages, options, cancellationToken))
        {
            responseId ??= update.ResponseId;
            foreach (var content in update.Contents.OfType<UsageContent>())
            {
                usage.Add(content.Details);
            }
            if (update.AdditionalProperties?.TryGetValue(VendorChatClient.VendorCostKey, out var c) == true && c is decimal cost)
            {
                vendorCost = (vendorCost ?? 0) + cost;
            }
            yield return update;
        }
        yield return new ChatResponseUpdate(ChatRole.Assistant, (string?)null)
        {
            ResponseId = responseId,
            AdditionalProperties = new() { [MeteredUsage.Key] = MeteredUsage.Of(usage, vendorCost, prices, time.GetElapsedTime(started)) },
        };
    }
}

/// <summary>
/// Bounds a vendor call: the whole answer within <c>total</c>; for a stream, also at most <c>idle</c> between
/// two updates. A timeout becomes a transient <see cref="VendorException"/> (vendor_timeout); the caller's
/// own cancellation stays a cancellation.
/// </summary>
public sealed class TimeoutChatClient(IChatClient inner, VendorTarget target, TimeSpan total, TimeSpan idle) : DelegatingChatClient(inner)
{
    public override async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(total);
        try
        {
            return await base.GetResponseAsync(messages, options, timeout.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw VendorTelemetry.Failed(VendorErrors.TimedOut(target, total));
        }
    }

    public override async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(
        IEnumerable<ChatMessage> messages, ChatOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(total);
        using var idleTimer = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token);
        await using var enumerator = base.GetStreamingResponseAsync(messages, options, idleTimer.Token).GetAsyncEnumerator(idleTimer.Token);
        while (true)
        {
            idleTimer.CancelAfter(idle);
            try
            {
                if (!await enumerator.MoveNextAsync())
                {
                    yield break;
                }
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw VendorTelemetry.Failed(VendorErrors.TimedOut(target, timeout.IsCancellationRequested ? total : idle));
            }
            yield return enumerator.Current;
        }
    }
}

/// <summary>Images: the same error mapping, timeout and metering as chat, in one layer (an image call is one request).</summary>
public sealed class VendorImageGenerator(IImageGenerator inner, VendorTarget target, TimeSpan total, TimeProvider time) : DelegatingImageGenerator(inner)
{
    private readonly ImageGeneratorMetadata _metadata = new(target.TelemetryName, VendorTelemetry.Endpoint(target), target.ModelId);

    public override async Task<ImageGenerationResponse> GenerateAsync(ImageGenerationRequest request, ImageGenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        var started = time.GetTimestamp();
        if (target.ProviderKind == ProviderKinds.OpenAICompatible)
        {
            options = OpenAIVendor.WithImageData(options, options?.ModelId ?? target.ModelId);
        }
        var response = await VendorTelemetry.GuardAsync(target, total, token => base.GenerateAsync(request, options, token), cancellationToken);
        MeteredUsage.Attach(response, MeteredUsage.Of(response.Usage, null, target.Prices, time.GetElapsedTime(started)));
        return response;
    }

    public override object? GetService(Type serviceType, object? serviceKey = null) =>
        serviceKey is null && serviceType == typeof(ImageGeneratorMetadata) ? _metadata : base.GetService(serviceType, serviceKey);
}

/// <summary>Embeddings: the same error mapping, timeout and metering as chat, in one layer (one request per call).</summary>
public sealed class VendorEmbeddingGenerator(IEmbeddingGenerator<string, Embedding<float>> inner, VendorTarget target, TimeSpan total, TimeProvider time)
    : DelegatingEmbeddingGenerator<string, Embedding<float>>(inner)
{
    private readonly EmbeddingGeneratorMetadata _metadata = new(target.TelemetryName, VendorTelemetry.Endpoint(target), target.ModelId);

    public override async Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(IEnumerable<string> values, EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        var started = time.GetTimestamp();
        var embeddings = await VendorTelemetry.GuardAsync(target, total, token => base.GenerateAsync(values, options, token), cancellationToken);
        (embeddings.AdditionalProperties ??= [])[MeteredUsage.Key] = MeteredUsage.Of(embeddings.Usage, null, target.Prices, time.GetElapsedTime(started));
        return embeddings;
    }

    public override object? GetService(Type serviceType, object? serviceKey = null) =>
        serviceKey is null && serviceType == typeof(EmbeddingGeneratorMetadata) ? _metadata : base.GetService(serviceType, serviceKey);
}

/// <summary>Speech: the same error mapping, timeout and metering as chat; speech is priced per input character.</summary>
public sealed class VendorSpeechClient(ITextToSpeechClient inner, VendorTarget target, TimeSpan total, TimeProvider time) : DelegatingTextToSpeechClient(inner)
{
    private readonly TextToSpeechClientMetadata _metadata = new(target.TelemetryName, VendorTelemetry.Endpoint(target), target.ModelId);

    public override async Task<TextToSpeechResponse> GetAudioAsync(string text, TextToSpeechOptions? options = null, CancellationToken cancellationToken = default)
    {
        var started = time.GetTimestamp();
        var response = await VendorTelemetry.GuardAsync(target, total, token => base.GetAudioAsync(text, options, token), cancellationToken);
        response.Usage ??= new UsageDetails { InputTokenCount = text.Length, OutputTokenCount = 0 };
        (response.AdditionalProperties ??= [])[MeteredUsage.Key] = MeteredUsage.Of(response.Usage, null, target.Prices, time.GetElapsedTime(started));
        return response;
    }

    public override async IAsyncEnumerable<TextToSpeechResponseUpdate> GetStreamingAudioAsync(
        string text, TextToSpeechOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        foreach (var update in (await GetAudioAsync(text, options, cancellationToken)).ToTextToSpeechResponseUpdates())
        {
            yield return update;
        }
    }

    public override object? GetService(Type serviceType, object? serviceKey = null) =>
        serviceKey is null && serviceType == typeof(TextToSpeechClientMetadata) ? _metadata : base.GetService(serviceType, serviceKey);
}
