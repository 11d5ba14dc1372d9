using System.Globalization;
using AiPrompts.Api.Auth;
using AiPrompts.Api.Errors;
using AiPrompts.Core.ApiKeys;
using AiPrompts.Core.Errors;
using AiPrompts.Core.Providers;
using AiPrompts.Core.Vendors;
using Microsoft.AspNetCore.Http.HttpResults;

namespace AiPrompts.Api.Gateway;

/// <summary>
/// The OpenAI-compatible surface: an app points any OpenAI SDK at <c>{Api}/openai/v1</c> with one of our API keys (or a
/// signed-in token) and calls models as <c>provider/model</c>, governed like every other call: the key rules, the token
/// limits and budgets before the call, a usage row for every vendor call, errors in OpenAI's shape with our stable codes.
/// Its calls run on the Api's own data path (no job hop); <see cref="GatewayAdmission"/> records each one before the vendor is called.
/// </summary>
internal static class GatewayApi
{
    public const string BasePath = "/openai/v1";

    public static IEndpointRouteBuilder MapGatewayApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup(BasePath).WithTags("OpenAI-compatible").RequireScope(ApiKeyScopes.Prompts);
        group.MapPost("/chat/completions", ChatCompletionsApi.CreateAsync).WithName("CreateChatCompletion")
            .Accepts<ChatCompletionRequest>("application/json")
            .Produces<ChatCompletionObject>(StatusCodes.Status200OK, "application/json", "text/event-stream")
            .CallsVendor()
            .WithSummary("A chat completion from any model the caller may use (provider/model), whole or streamed (stream, stream_options.include_usage)");
        group.MapPost("/embeddings", EmbeddingsApi.CreateAsync).WithName("CreateEmbeddings").Produces<EmbeddingList>().CallsVendor()
            .WithSummary("Embedding vectors of one text or several, as floats or base64 (local/local-embedding needs no vendor key)");
        group.MapGet("/models", ListModelsAsync).WithName("ListGatewayModels")
            .WithSummary("The models the caller may call now (chat and embeddings), as provider/model");
        // Model ids have slashes of their own (openrouter/openai/gpt-4o-mini).
        group.MapGet("/models/{**model}", GetModelAsync).WithName("GetGatewayModel")
            .WithSummary("One model the caller may call, or 404");
        group.MapResponses();
        group.MapConversations();
        return app;
    }

    internal static async Task<Ok<GatewayModelList>> ListModelsAsync(HttpContext http, AiAccess access, CancellationToken cancellationToken)
    {
        var models = await access.UsableAsync(http.User.AiCaller(), [Capabilities.Chat, Capabilities.Embeddings], 1000, cancellationToken);
        return TypedResults.Ok(new GatewayModelList("list", [.. models.Select(View)]));
    }

    internal static async Task<Results<Ok<GatewayModel>, ProblemHttpResult>> GetModelAsync(string model, HttpContext http, AiAccess access, CancellationToken cancellationToken)
    {
        // The SDKs escape the slash of provider/model; a catch-all parameter keeps it escaped.
        model = Uri.UnescapeDataString(model);
        var models = await access.UsableAsync(http.User.AiCaller(), [Capabilities.Chat, Capabilities.Embeddings], 1000, cancellationToken);
        return models.FirstOrDefault(m => $"{m.ProviderId}/{m.ModelId}" == model) is { } found ? TypedResults.Ok(View(found)) : ApiProblem.Of(ErrorCode.NotFound);
    }

    private static GatewayModel View(AiModel model) => new($"{model.ProviderId}/{model.ModelId}", "model", model.CreatedAt.ToUnixTimeSeconds(), model.ProviderId);

    /// <summary>A vendor's refusal as our answer: its stable code and status, with Retry-After when the vendor gave one.</summary>
    /// <summary>Declares what a vendor's failure answers (<see cref="VendorProblem"/>: 422 filtered, 502 refused or unusable, 504 timed out; 429 and 503 every operation declares).</summary>
    internal static RouteHandlerBuilder CallsVendor(this RouteHandlerBuilder endpoint) =>
        endpoint.ProducesProblem(StatusCodes.Status422UnprocessableEntity).ProducesProblem(StatusCodes.Status502BadGateway).ProducesProblem(StatusCodes.Status504GatewayTimeout);

    internal static ProblemHttpResult VendorProblem(HttpContext http, VendorException error)
    {
        if (error.RetryAfter is { } retry && !http.Response.HasStarted)
        {
            http.Response.Headers.RetryAfter = Math.Max(1, (long)Math.Ceiling(retry.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
        }
        return ApiProblem.Of(error.Code, error.MessageArgs);
    }
}
