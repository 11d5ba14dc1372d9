namespace AiPrompts.Core.Gateway;

/// <summary>The gateway's model ids: <c>provider/model</c>, as <c>GET /openai/v1/models</c> lists them.</summary>
public static class ModelIds
{
    /// <summary>
    /// The provider is what comes before the first slash, the model the rest (OpenRouter's models have slashes of their
    /// own: <c>openrouter/openai/gpt-4o-mini</c>).
    /// </summary>
    public static bool TrySplit(string? model, out string providerId, out string modelId)
    {
        var slash = model?.IndexOf('/', StringComparison.Ordinal) ?? -1;
        providerId = slash > 0 ? model![..slash] : "";
        modelId = slash > 0 ? model![(slash + 1)..] : "";
        return providerId.Length > 0 && modelId.Length > 0;
    }

    public static string Of(string providerId, string modelId) => $"{providerId}/{modelId}";
}
