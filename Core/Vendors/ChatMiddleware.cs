using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;
using AiPrompts.Core.Providers;
using Microsoft.Extensions.AI;

namespace AiPrompts.Core.Vendors;

/// <summary>What one call used and cost. Cost comes from the catalogue prices; VendorCost is what the vendor reported, when it does.</summary>
public sealed record MeteredUsage(long InputTokens, long OutputTokens, decimal? Cost, decimal? VendorCost, TimeSpan Duration)
{
    public const string Key = "aiprompts.usage";

    public static MeteredUsage? From(AdditionalPropertiesDictionary? properties) =>
        properties is not null && properties.TryGetValue(Key, out var value) ? value as MeteredUsage : null;
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
        var vendorCost = response.AdditionalProperties?.TryGetValue(OpenAICompatibleChatClient.VendorCostKey, out var c) == true ? c as decimal? : null;
        (response.AdditionalProperties ??= [])[MeteredUsage.Key] = Meter(response.Usage, vendorCost, time.GetElapsedTime(started));
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
            if (update.AdditionalProperties?.TryGetValue(OpenAICompatibleChatClient.VendorCostKey, out var c) == true && c is decimal cost)
            {
                vendorCost = (vendorCost ?? 0) + cost;
            }
            yield return update;
        }
        yield return new ChatResponseUpdate(ChatRole.Assistant, (string?)null)
        {
            ResponseId = responseId,
            AdditionalProperties = new() { [MeteredUsage.Key] = Meter(usage, vendorCost, time.GetElapsedTime(started)) },
        };
    }

    private MeteredUsage Meter(UsageDetails? usage, decimal? vendorCost, TimeSpan duration)
    {
        var input = usage?.InputTokenCount ?? 0;
        var output = usage?.OutputTokenCount ?? 0;
        return new MeteredUsage(input, output, prices.CostOf(input, output), vendorCost, duration);
    }
}

/// <summary>
/// OpenTelemetry GenAI semantic conventions: a "chat {model}" client span with <c>gen_ai.*</c> attributes,
/// and the <c>gen_ai.client.token.usage</c> and <c>gen_ai.client.operation.duration</c> histograms.
/// Prompts and answers are never recorded.
/// </summary>
public sealed class TelemetryChatClient(IChatClient inner, VendorTarget target, TimeProvider time) : DelegatingChatClient(inner)
{
    public const string SourceName = "AiPrompts.GenAI";
    internal static readonly ActivitySource Source = new(SourceName);
    internal static readonly Meter Meter = new(SourceName);

    internal static readonly Histogram<long> TokenUsage = Meter.CreateHistogram<long>(
        "gen_ai.client.token.usage", "{token}", "Number of input and output tokens used.",
        advice: new InstrumentAdvice<long> { HistogramBucketBoundaries = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864] });

    internal static readonly Histogram<double> OperationDuration = Meter.CreateHistogram<double>(
        "gen_ai.client.operation.duration", "s", "GenAI operation duration.",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92] });

    public override async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        using var activity = Start(options);
        var started = time.GetTimestamp();
        try
        {
            var response = await base.GetResponseAsync(messages, options, cancellationToken);
            Finish(activity, started, response.ModelId, response.ResponseId, response.FinishReason, response.Usage, null);
            return response;
        }
        catch (Exception ex)
        {
            Finish(activity, started, null, null, null, null, ex);
            throw;
        }
    }

    public override async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(
        IEnumerable<ChatMessage> messages, ChatOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        using var activity = Start(options);
        var started = time.GetTimestamp();
        var usage = new UsageDetails();
        string? model = null, id = null;
        ChatFinishReason? finish = null;
        await using var enumerator = base.GetStreamingResponseAsync(messages, options, cancellationToken).GetAsyncEnumerator(cancellationToken);
        while (true)
        {
            try
            {
                if (!await enumerator.MoveNextAsync())
                {
                    break;
                }
            }
            catch (Exception ex)
            {
                Finish(activity, started, model, id, finish, usage, ex);
                throw;
            }
            var update = enumerator.Current;
            model ??= update.ModelId;
            id ??= update.ResponseId;
            finish ??= update.FinishReason;
            foreach (var content in update.Contents.OfType<UsageContent>())
            {
                usage.Add(content.Details);
            }
            yield return update;
        }
        Finish(activity, started, model, id, finish, usage, null);
    }

    private Activity? Start(ChatOptions? options)
    {
        var model = options?.ModelId ?? target.ModelId;
        var activity = Source.StartActivity($"chat {model}", ActivityKind.Client);
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag("gen_ai.operation.name", "chat");
            activity.SetTag("gen_ai.provider.name", target.TelemetryName);
            activity.SetTag("gen_ai.request.model", model);
            activity.SetTag("aiprompts.key_source", target.KeySource.ToString().ToLowerInvariant());
            if (options?.MaxOutputTokens is { } max)
            {
                activity.SetTag("gen_ai.request.max_tokens", max);
            }
            if (options?.Temperature is { } temperature)
            {
                activity.SetTag("gen_ai.request.temperature", temperature);
            }
            if (target.BaseUrl is { } baseUrl && Uri.TryCreate(baseUrl, UriKind.Absolute, out var uri))
            {
                activity.SetTag("server.address", uri.Host);
                activity.SetTag("server.port", uri.Port);
            }
        }
        return activity;
    }

    private void Finish(Activity? activity, long started, string? responseModel, string? responseId, ChatFinishReason? finish, UsageDetails? usage, Exception? error)
    {
        var elapsed = time.GetElapsedTime(started).TotalSeconds;
        var tags = new TagList
        {
            { "gen_ai.operation.name", "chat" },
            { "gen_ai.provider.name", target.TelemetryName },
            { "gen_ai.request.model", target.ModelId },
        };
        if (responseModel is not null)
        {
            tags.Add("gen_ai.response.model", responseModel);
        }
        if (error is not null)
        {
            var type = error is VendorException vendor ? vendor.Code.Code : error.GetType().FullName;
            tags.Add("error.type", type);
            activity?.SetTag("error.type", type);
            activity?.SetStatus(ActivityStatusCode.Error, error is VendorException v ? v.Code.Code : "error");
        }
        OperationDuration.Record(elapsed, tags);
        if (usage?.InputTokenCount is { } input)
        {
            var inputTags = tags;
            inputTags.Add("gen_ai.token.type", "input");
            TokenUsage.Record(input, inputTags);
            activity?.SetTag("gen_ai.usage.input_tokens", input);
        }
        if (usage?.OutputTokenCount is { } output)
        {
            var outputTags = tags;
            outputTags.Add("gen_ai.token.type", "output");
            TokenUsage.Record(output, outputTags);
            activity?.SetTag("gen_ai.usage.output_tokens", output);
        }
        if (activity is not null)
        {
            activity.SetTag("gen_ai.response.model", responseModel);
            activity.SetTag("gen_ai.response.id", responseId);
            if (finish is { } reason)
            {
                activity.SetTag("gen_ai.response.finish_reasons", new[] { reason.Value });
            }
        }
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
            throw VendorErrors.TimedOut(target, total);
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
                throw VendorErrors.TimedOut(target, timeout.IsCancellationRequested ? total : idle);
            }
            yield return enumerator.Current;
        }
    }
}
