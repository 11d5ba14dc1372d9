using System.ClientModel;
using System.Globalization;
using System.Text.Json;
using AiPrompts.Core.Errors;
using AiPrompts.Core.Keys;
using Anthropic.Exceptions;

namespace AiPrompts.Core.Vendors;

/// <summary>
/// A vendor call failed. <see cref="Code"/> is one of the stable vendor codes; <see cref="VendorMessage"/>
/// is what the vendor said, with any key masked. Transient failures (rate limits, outages, timeouts) may be
/// retried; the others fail at once.
/// </summary>
public sealed class VendorException(ErrorCode code, string providerId, string? modelId, string vendorMessage, int? httpStatus = null, TimeSpan? retryAfter = null, Exception? inner = null)
    : Exception($"{providerId}: {code.Code}{(httpStatus is { } s ? $" (HTTP {s})" : "")}: {vendorMessage}", inner)
{
    public ErrorCode Code { get; } = code;
    public string ProviderId { get; } = providerId;
    public string? ModelId { get; } = modelId;
    public string VendorMessage { get; } = vendorMessage;
    public int? HttpStatus { get; } = httpStatus;
    public TimeSpan? RetryAfter { get; } = retryAfter;

    public bool IsTransient => Code == ErrorCode.VendorRateLimited || Code == ErrorCode.VendorUnavailable || Code == ErrorCode.VendorTimeout;

    /// <summary>A call that never connected did not reach the vendor (no usage row); anything else (an HTTP answer, a timeout) did.</summary>
    public bool ReachedVendor => HttpStatus is not null || Code != ErrorCode.VendorUnavailable;

    /// <summary>The slots of the localised messages.</summary>
    public IReadOnlyDictionary<string, string> MessageArgs => new Dictionary<string, string>
    {
        ["provider"] = ProviderId,
        ["model"] = ModelId ?? "",
        ["retryAfter"] = ((int)Math.Ceiling((RetryAfter ?? TimeSpan.FromSeconds(1)).TotalSeconds)).ToString(CultureInfo.InvariantCulture),
    };
}

/// <summary>Turns what a vendor call failed with (the SDKs' exceptions, an HTTP error, an error in the body) into a <see cref="VendorException"/> with a stable code.</summary>
public static class VendorErrors
{
    /// <summary>
    /// The <see cref="VendorException"/> for a failed call, or null when the exception is not the vendor's
    /// doing: the caller's own cancellation, or a bug that must surface as it is.
    /// </summary>
    public static VendorException? From(Exception exception, VendorTarget target, VendorCall call, CancellationToken cancellationToken)
    {
        if (exception is VendorException || cancellationToken.IsCancellationRequested)
        {
            return null;
        }
        return exception switch
        {
            ClientResultException { Status: > 0 } sdk when sdk.GetRawResponse() is { } raw =>
                FromHttp(target, sdk.Status, raw.Content.ToString(), raw.Headers.TryGetValue("Retry-After", out var retryAfter) ? retryAfter : call.RetryAfter),
            AnthropicApiException api =>
                FromHttp(target, (int)api.StatusCode, api.ResponseBody is { Length: > 0 } body ? body : JsonSerializer.Serialize(new { error = new { message = api.ApiMessage ?? api.Message } }), call.RetryAfter),
            _ when call.TryGetErrorInBody(out var error) => InBody(target, error),
            ClientResultException or AnthropicException or HttpRequestException or IOException or TaskCanceledException => Unreachable(target, exception),
            _ => null,
        };
    }

    public static VendorException FromHttp(VendorTarget target, int status, string? body, string? retryAfterHeader, TimeProvider? time = null)
    {
        var (message, type, code) = ReadError(body);
        message = SecretMasker.Apply(string.IsNullOrWhiteSpace(message) ? $"HTTP {status}" : message, target.Credential?.Secret);
        var hint = $"{type} {code} {message}".ToLowerInvariant();
        var errorCode = status switch
        {
            401 or 403 => ErrorCode.VendorInvalidKey,
            402 => ErrorCode.VendorNoCredit,
            429 when hint.Contains("insufficient_quota", StringComparison.Ordinal) => ErrorCode.VendorNoCredit,
            429 => ErrorCode.VendorRateLimited,
            404 => ErrorCode.VendorModelNotFound,
            408 => ErrorCode.VendorTimeout,
            400 or 422 when hint.Contains("content_filter", StringComparison.Ordinal) || hint.Contains("content_policy", StringComparison.Ordinal)
                || hint.Contains("safety", StringComparison.Ordinal) || hint.Contains("moderation", StringComparison.Ordinal) => ErrorCode.VendorContentFiltered,
            400 when hint.Contains("credit balance", StringComparison.Ordinal) => ErrorCode.VendorNoCredit,
            400 when hint.Contains("model", StringComparison.Ordinal) && (hint.Contains("not found", StringComparison.Ordinal) || hint.Contains("does not exist", StringComparison.Ordinal) || hint.Contains("not a valid model", StringComparison.Ordinal)) => ErrorCode.VendorModelNotFound,
            >= 500 => ErrorCode.VendorUnavailable,
            _ => ErrorCode.VendorBadRequest,
        };
        var retryAfter = errorCode == ErrorCode.VendorRateLimited || errorCode == ErrorCode.VendorUnavailable ? ParseRetryAfter(retryAfterHeader, time ?? TimeProvider.System) : null;
        return new VendorException(errorCode, target.ProviderId, target.ModelId, message, status, retryAfter);
    }

    public static VendorException Unreachable(VendorTarget target, Exception inner) =>
        new(ErrorCode.VendorUnavailable, target.ProviderId, target.ModelId, SecretMasker.Apply($"The vendor could not be reached: {inner.Message}", target.Credential?.Secret), inner: inner);

    public static VendorException TimedOut(VendorTarget target, TimeSpan after) =>
        new(ErrorCode.VendorTimeout, target.ProviderId, target.ModelId, $"No answer within {after.TotalSeconds:0.#} s.");

    /// <summary>An error a vendor reported inside a 200 answer (OpenRouter's finish_reason "error", an "error" object).</summary>
    public static VendorException InBody(VendorTarget target, JsonElement? error)
    {
        var (message, _, code) = error is { } e ? ReadErrorObject(e) : (null, null, null);
        var status = int.TryParse(code, NumberStyles.Integer, CultureInfo.InvariantCulture, out var numeric) ? numeric : (int?)null;
        if (status is { } s and >= 400 and < 500 and not 408 and not 429)
        {
            return FromHttp(target, s, error?.GetRawText() is { } raw ? "{\"error\":" + raw + "}" : null, null);
        }
        return new VendorException(status == 429 ? ErrorCode.VendorRateLimited : ErrorCode.VendorUnavailable, target.ProviderId, target.ModelId,
            SecretMasker.Apply(message ?? "The vendor ended the answer with an error.", target.Credential?.Secret), status);
    }

    public static TimeSpan? ParseRetryAfter(string? header, TimeProvider time)
    {
        if (string.IsNullOrWhiteSpace(header))
        {
            return null;
        }
        if (double.TryParse(header, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) && seconds >= 0)
        {
            return TimeSpan.FromSeconds(Math.Min(seconds, 3600));
        }
        if (DateTimeOffset.TryParse(header, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var date))
        {
            var delay = date - time.GetUtcNow();
            return delay > TimeSpan.Zero ? TimeSpan.FromSeconds(Math.Min(delay.TotalSeconds, 3600)) : TimeSpan.Zero;
        }
        return null;
    }

    // OpenAI and OpenRouter: {"error": {"message", "type", "code"}}; Anthropic: {"type": "error", "error": {"type", "message"}};
    // Hugging Face: {"error": "text"} or {"error": ["text"]}.
    private static (string? Message, string? Type, string? Code) ReadError(string? body)
    {
        if (string.IsNullOrWhiteSpace(body))
        {
            return (null, null, null);
        }
        try
        {
            using var document = JsonDocument.Parse(body);
            return document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty("error", out var error)
                ? ReadErrorObject(error)
                : (Truncate(body), null, null);
        }
        catch (JsonException)
        {
            return (Truncate(body), null, null);
        }
    }

    private static (string? Message, string? Type, string? Code) ReadErrorObject(JsonElement error) => error.ValueKind switch
    {
        JsonValueKind.String => (error.GetString(), null, null),
        JsonValueKind.Array => (string.Join("; ", error.EnumerateArray().Select(e => e.ToString())), null, null),
        JsonValueKind.Object => (
            error.TryGetProperty("message", out var m) ? m.ToString() : null,
            error.TryGetProperty("type", out var t) ? t.ToString() : null,
            error.TryGetProperty("code", out var c) ? c.ToString() : null),
        _ => (null, null, null),
    };

    private static string Truncate(string text) => text.Length <= 500 ? text : text[..500] + "…";
}
