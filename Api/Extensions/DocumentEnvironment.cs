namespace AiPrompts.Api.Extensions;

/// <summary>
/// The Korean document's <c>.env</c> names as aliases of our settings, so its deployment
/// files work unchanged: <c>CORS_ORIGINS</c> (comma-separated) for <c>Cors:AllowedOrigins</c> and
/// <c>ASSISTANT_ID</c> for <c>Assistants:DefaultAssistantId</c>. A setting given under our own name wins.
/// </summary>
internal static class DocumentEnvironment
{
    public static IConfigurationManager AddDocumentAliases(this IConfigurationManager configuration)
    {
        var aliases = new Dictionary<string, string?>();
        if (configuration["CORS_ORIGINS"] is { Length: > 0 } origins && !configuration.GetSection("Cors:AllowedOrigins").GetChildren().Any())
        {
            var list = origins.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            for (var i = 0; i < list.Length; i++)
            {
                aliases[$"Cors:AllowedOrigins:{i}"] = list[i];
            }
        }
        if (configuration["ASSISTANT_ID"] is { Length: > 0 } assistant && configuration["Assistants:DefaultAssistantId"] is null)
        {
            aliases["Assistants:DefaultAssistantId"] = assistant;
        }
        if (aliases.Count > 0)
        {
            configuration.AddInMemoryCollection(aliases);
        }
        return configuration;
    }
}
