using System.ClientModel;
using System.ClientModel.Primitives;
using System.Drawing;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.AI;
using OpenAI;
using OpenAI.Audio;
using OpenAI.Images;
using ImageGenerationOptions = Microsoft.Extensions.AI.ImageGenerationOptions;

namespace AiPrompts.Core.Vendors;

#pragma warning disable MEAI001 // IImageGenerator and ITextToSpeechClient are experimental in Microsoft.Extensions.AI.Abstractions 10.x.

/// <summary>Shared plumbing of the OpenAI SDK's protocol methods: our transport, no SDK retries, our error mapping.</summary>
internal static class OpenAIProtocol
{
    public static OpenAIClientOptions Options(VendorTarget target, HttpClient http) => new()
    {
        Endpoint = new Uri((target.BaseUrl ?? throw new ArgumentException("An OpenAI-compatible provider needs a base URL.", nameof(target))).TrimEnd('/')),
        Transport = new HttpClientPipelineTransport(http),
        RetryPolicy = new ClientRetryPolicy(0), // the job engine owns retries
        NetworkTimeout = Timeout.InfiniteTimeSpan, // and the callers' timeouts bound each call
    };

    public static ApiKeyCredential Credential(VendorTarget target) => new(target.Credential?.Secret ?? "no-key");

    public static async Task<PipelineResponse> SendAsync(VendorTarget target, Func<RequestOptions, Task<ClientResult>> call, CancellationToken cancellationToken)
    {
        var options = new RequestOptions { CancellationToken = cancellationToken, ErrorOptions = ClientErrorBehaviors.NoThrow };
        PipelineResponse response;
        try
        {
            response = (await call(options)).GetRawResponse();
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested && ex is ClientResultException or HttpRequestException or IOException or TaskCanceledException)
        {
            throw VendorErrors.Unreachable(target, ex);
        }
        if (response.IsError)
        {
            response.Headers.TryGetValue("Retry-After", out var retryAfter);
            throw VendorErrors.FromHttp(target, response.Status, response.Content.ToString(), retryAfter);
        }
        return response;
    }

    public static BinaryContent Json(object body) => BinaryContent.Create(BinaryData.FromObjectAsJson(body));
}

/// <summary>Images from OpenAI's images API (gpt-image-1, dall-e-3) through the SDK's protocol method.</summary>
public sealed class OpenAIImageGenerator(VendorTarget target, HttpClient http) : IImageGenerator
{
    private readonly ImageClient _client = new(target.ModelId, OpenAIProtocol.Credential(target), OpenAIProtocol.Options(target, http));

    public async Task<ImageGenerationResponse> GenerateAsync(ImageGenerationRequest request, ImageGenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        var size = options?.ImageSize ?? new Size(1024, 1024);
        var body = new Dictionary<string, object?>
        {
            ["model"] = options?.ModelId ?? target.ModelId,
            ["prompt"] = request.Prompt,
            ["n"] = Math.Clamp(options?.Count ?? 1, 1, 4),
            ["size"] = $"{size.Width}x{size.Height}",
        };
        if (!target.ModelId.StartsWith("gpt-image", StringComparison.Ordinal))
        {
            body["response_format"] = "b64_json"; // gpt-image models always answer in base64 and reject the field
        }
        using var content = OpenAIProtocol.Json(body);
        var response = await OpenAIProtocol.SendAsync(target, o => _client.GenerateImagesAsync(content, o), cancellationToken);
        using var document = JsonDocument.Parse(response.Content.ToMemory());
        var contents = new List<AIContent>();
        foreach (var item in document.RootElement.GetProperty("data").EnumerateArray())
        {
            if (item.TryGetProperty("b64_json", out var b64) && b64.GetString() is { } data)
            {
                contents.Add(new DataContent(Convert.FromBase64String(data), "image/png"));
            }
            else if (item.TryGetProperty("url", out var url) && url.GetString() is { } link)
            {
                contents.Add(new UriContent(new Uri(link), "image/png"));
            }
        }
        var usage = document.RootElement.TryGetProperty("usage", out var u) && u.ValueKind == JsonValueKind.Object
            ? new UsageDetails
            {
                InputTokenCount = u.TryGetProperty("input_tokens", out var i) ? i.GetInt64() : null,
                OutputTokenCount = u.TryGetProperty("output_tokens", out var o) ? o.GetInt64() : null,
            }
            : null;
        return new ImageGenerationResponse(contents) { Usage = usage };
    }

    public object? GetService(Type serviceType, object? serviceKey = null) => serviceKey is null && serviceType.IsInstanceOfType(this) ? this : null;

    public void Dispose()
    {
    }
}

/// <summary>Speech from OpenAI's audio/speech API through the SDK's protocol method.</summary>
public sealed class OpenAISpeechClient(VendorTarget target, HttpClient http) : ITextToSpeechClient
{
    private readonly AudioClient _client = new(target.ModelId, OpenAIProtocol.Credential(target), OpenAIProtocol.Options(target, http));

    public async Task<TextToSpeechResponse> GetAudioAsync(string text, TextToSpeechOptions? options = null, CancellationToken cancellationToken = default)
    {
        var format = options?.AudioFormat ?? "mp3";
        var body = new Dictionary<string, object?>
        {
            ["model"] = options?.ModelId ?? target.ModelId,
            ["input"] = text,
            ["voice"] = options?.VoiceId ?? "alloy",
            ["response_format"] = format,
        };
        if (options?.Speed is { } speed)
        {
            body["speed"] = speed;
        }
        using var content = OpenAIProtocol.Json(body);
        var response = await OpenAIProtocol.SendAsync(target, o => _client.GenerateSpeechAsync(content, o), cancellationToken);
        var mediaType = response.Headers.TryGetValue("Content-Type", out var type) && type is { Length: > 0 } ? type.Split(';')[0] : "audio/" + format;
        return new TextToSpeechResponse([new DataContent(response.Content.ToMemory(), mediaType)])
        {
            ModelId = target.ModelId,
            Usage = new UsageDetails { InputTokenCount = text.Length, OutputTokenCount = 0 },
        };
    }

    public async IAsyncEnumerable<TextToSpeechResponseUpdate> GetStreamingAudioAsync(
        string text, TextToSpeechOptions? options = null, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        foreach (var update in (await GetAudioAsync(text, options, cancellationToken)).ToTextToSpeechResponseUpdates())
        {
            yield return update;
        }
    }

    public object? GetService(Type serviceType, object? serviceKey = null) => serviceKey is null && serviceType.IsInstanceOfType(this) ? this : null;

    public void Dispose()
    {
    }
}

/// <summary>
/// Hugging Face text-to-image (the Inference API / router): POST {base}/models/{model} with
/// <c>{"inputs": prompt}</c>, answered with the image bytes.
/// </summary>
public sealed class HuggingFaceImageGenerator(VendorTarget target, HttpClient http) : IImageGenerator
{
    public async Task<ImageGenerationResponse> GenerateAsync(ImageGenerationRequest request, ImageGenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        var baseUrl = (target.BaseUrl ?? throw new InvalidOperationException("Hugging Face needs a base URL.")).TrimEnd('/');
        var model = options?.ModelId ?? target.ModelId;
        var parameters = new Dictionary<string, object>();
        if (options?.ImageSize is { } size)
        {
            parameters["width"] = size.Width;
            parameters["height"] = size.Height;
        }
        var body = JsonSerializer.Serialize(new { inputs = request.Prompt, parameters });
        using var message = new HttpRequestMessage(HttpMethod.Post, $"{baseUrl}/models/{model}")
        {
            Content = new StringContent(body, Encoding.UTF8, "application/json"),
        };
        message.Headers.Authorization = new AuthenticationHeaderValue("Bearer", target.Credential?.Secret ?? "");
        message.Headers.Accept.ParseAdd(options?.MediaType ?? "image/png");
        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(message, cancellationToken);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested && ex is HttpRequestException or IOException or TaskCanceledException)
        {
            throw VendorErrors.Unreachable(target, ex);
        }
        using (response)
        {
            if (!response.IsSuccessStatusCode)
            {
                var error = await response.Content.ReadAsStringAsync(cancellationToken);
                var retryAfter = response.Headers.RetryAfter?.Delta?.TotalSeconds.ToString(CultureInfo.InvariantCulture);
                throw VendorErrors.FromHttp(target, (int)response.StatusCode, error, retryAfter);
            }
            var mediaType = response.Content.Headers.ContentType?.MediaType ?? "image/png";
            if (!mediaType.StartsWith("image/", StringComparison.Ordinal))
            {
                throw new VendorException(Errors.ErrorCode.VendorBadRequest, target.ProviderId, target.ModelId, $"Expected an image, got {mediaType}.", (int)response.StatusCode);
            }
            var bytes = await response.Content.ReadAsByteArrayAsync(cancellationToken);
            return new ImageGenerationResponse([new DataContent(bytes, mediaType)]);
        }
    }

    public object? GetService(Type serviceType, object? serviceKey = null) => serviceKey is null && serviceType.IsInstanceOfType(this) ? this : null;

    public void Dispose()
    {
    }
}
