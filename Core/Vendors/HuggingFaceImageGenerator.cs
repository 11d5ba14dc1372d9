using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.AI;

namespace AiPrompts.Core.Vendors;

#pragma warning disable MEAI001 // IImageGenerator and ITextToSpeechClient are experimental in Microsoft.Extensions.AI.Abstractions 10.x.

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
        // Network failures and timeouts are mapped by VendorImageGenerator, the layer above.
        var response = await http.SendAsync(message, cancellationToken);
        using (response)
        {
            if (!response.IsSuccessStatusCode)
            {
                var error = await response.Content.ReadAsStringAsync(cancellationToken);
                throw VendorErrors.FromHttp(target, (int)response.StatusCode, error, response.Headers.RetryAfter?.Delta?.TotalSeconds.ToString(CultureInfo.InvariantCulture));
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
