using System.Runtime.InteropServices;
using System.Text.Json;
using AiPrompts.Api.Errors;
using AiPrompts.Core.Gateway;
using AiPrompts.Core.Input;
using AiPrompts.Core.Providers;
using AiPrompts.Core.Vendors;
using Microsoft.Extensions.AI;

namespace AiPrompts.Api.Gateway;

/// <summary><c>POST /openai/v1/embeddings</c>: through the vendor's <c>IEmbeddingGenerator</c>, governed like a chat call.</summary>
internal static class EmbeddingsApi
{
    public const int MaxInputs = 2048;
    public const int MaxInputLength = 32_768;
    public const int MaxDimensions = 4096;

    internal static async Task<IResult> CreateAsync(
        EmbeddingRequest body, HttpContext http, GatewayAdmission admission, VendorClientPool vendors, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        var inputs = Inputs(body.Input, errors);
        if (body.EncodingFormat is not (null or "float" or "base64"))
        {
            errors["encoding_format"] = ["The encoding format is float or base64."];
        }
        if (body.Dimensions is < 1 or > MaxDimensions)
        {
            errors["dimensions"] = [$"The dimensions are between 1 and {MaxDimensions}."];
        }
        if (errors.Count > 0)
        {
            return ApiProblem.Validation(errors);
        }
        var ask = new GatewayAsk(GatewaySurfaces.Embedding, [Capabilities.Embeddings], Capabilities.Embeddings, body.Model, inputs.Sum(i => (long)i.Length), 0, null);
        var (call, refusal) = await admission.BeginAsync(http, ask, cancellationToken);
        if (call is null)
        {
            return refusal!;
        }
        var generator = vendors.Embeddings(call.Target);
        var (embeddings, refused) = await call.CallAsync(token => generator.GenerateAsync(inputs, new EmbeddingGenerationOptions { Dimensions = body.Dimensions }, token), cancellationToken);
        if (embeddings is null)
        {
            return refused!;
        }
        var metered = MeteredUsage.From(embeddings.AdditionalProperties);
        call.Succeeded(metered);
        var base64 = body.EncodingFormat == "base64";
        var list = new EmbeddingList("list",
            [.. embeddings.Select((e, i) => new EmbeddingItem("embedding", i, base64 ? Convert.ToBase64String(MemoryMarshal.AsBytes(e.Vector.Span)) : e.Vector.ToArray()))],
            call.Model, new EmbeddingUsage(metered?.InputTokens ?? 0, metered?.InputTokens ?? 0));
        call.AnswerReady();
        return TypedResults.Ok(list);
    }

    /// <summary>One text or an array of texts, none empty; token arrays (which only OpenAI's own tokenizer means anything for) are refused.</summary>
    private static List<string> Inputs(JsonElement? input, Dictionary<string, string[]> errors)
    {
        var texts = new List<string>();
        switch (input)
        {
            case { ValueKind: JsonValueKind.String } one:
                texts.Add(one.GetString()!);
                break;
            case { ValueKind: JsonValueKind.Array } many when many.GetArrayLength() is > 0 and <= MaxInputs:
                foreach (var item in many.EnumerateArray())
                {
                    if (item.ValueKind != JsonValueKind.String)
                    {
                        errors["input"] = ["The input is a text or an array of texts; token arrays are not supported."];
                        return texts;
                    }
                    texts.Add(item.GetString()!);
                }
                break;
            case { ValueKind: JsonValueKind.Array }:
                errors["input"] = [$"The input has 1 to {MaxInputs} texts."];
                return texts;
            default:
                errors["input"] = ["The input is a text or an array of texts; token arrays are not supported."];
                return texts;
        }
        if (texts.Any(t => t.Length == 0 || TextLength.Of(t) > MaxInputLength))
        {
            errors["input"] = [$"Each text has 1 to {MaxInputLength} characters."];
        }
        return texts;
    }
}
