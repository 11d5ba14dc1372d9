using System.Security.Claims;
using System.Text.Json;
using System.Text.Json.Serialization;
using AiPrompts.Api.Auth;
using AiPrompts.Api.Errors;
using AiPrompts.Api.Input;
using AiPrompts.Core.ApiKeys;
using AiPrompts.Core.Assistants;
using AiPrompts.Core.Data;
using AiPrompts.Core.Errors;
using AiPrompts.Core.Providers;
using AiPrompts.Core.Templates;
using AiPrompts.Core.Users;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace AiPrompts.Api.Assistants;

public sealed record AssistantWrite(
    [property: JsonPropertyName("model")] string? Model = null,
    [property: JsonPropertyName("name")] string? Name = null,
    [property: JsonPropertyName("description")] string? Description = null,
    [property: JsonPropertyName("instructions")] string? Instructions = null,
    [property: JsonPropertyName("tools")] List<JsonElement>? Tools = null,
    [property: JsonPropertyName("metadata")] Dictionary<string, string>? Metadata = null,
    [property: JsonPropertyName("temperature")] float? Temperature = null,
    [property: JsonPropertyName("top_p")] float? TopP = null,
    [property: JsonPropertyName("shared")] bool? Shared = null);

public sealed record AssistantObject(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("object")] string Object,
    [property: JsonPropertyName("created_at")] long CreatedAt,
    [property: JsonPropertyName("name")] string? Name,
    [property: JsonPropertyName("description")] string? Description,
    [property: JsonPropertyName("model")] string Model,
    [property: JsonPropertyName("instructions")] string? Instructions,
    [property: JsonPropertyName("tools")] IReadOnlyList<JsonElement> Tools,
    [property: JsonPropertyName("metadata")] Dictionary<string, string> Metadata,
    [property: JsonPropertyName("temperature")] float? Temperature,
    [property: JsonPropertyName("top_p")] float? TopP,
    [property: JsonPropertyName("response_format")] string ResponseFormat,
    [property: JsonPropertyName("shared")] bool Shared);

/// <summary>
/// Assistants as managed objects: an admin makes their own, a super admin may share one with everyone;
/// everyone uses the shared ones and their own (others are 404). The model is a catalogue chat model
/// (<c>model</c> or <c>provider/model</c>), or none: the chat section's model when the run starts.
/// </summary>
internal static partial class AssistantsApi
{
    private const int MaxTools = 128;
    private const int MaxName = 256;
    private const int MaxDescription = 512;
    private const int MaxInstructions = 256_000;

    public static IEndpointRouteBuilder MapAssistantsApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/assistants").WithTags("Assistants");
        group.MapPost("/", CreateAsync).WithName("CreateAssistant").RequireScope(ApiKeyScopes.Admin)
            .WithSummary("Create an assistant (admins; a super admin may share it with everyone)");
        group.MapGet("/", ListAsync).WithName("ListAssistants").RequireScope(ApiKeyScopes.Prompts).WithSummary("The assistants I may use: mine and the shared ones");
        group.MapGet("/{assistant_id}", GetAsync).WithName("GetAssistant").RequireScope(ApiKeyScopes.Prompts).WithSummary("One assistant I may use");
        group.MapPost("/{assistant_id}", ModifyAsync).WithName("ModifyAssistant").RequireScope(ApiKeyScopes.Admin).WithSummary("Change an assistant I made (or any, as a super admin)");
        group.MapDelete("/{assistant_id}", DeleteAsync).WithName("DeleteAssistant").RequireScope(ApiKeyScopes.Admin).WithSummary("Delete an assistant I made (or any, as a super admin)");
        return app;
    }

    internal static async Task<Results<Ok<AssistantObject>, ValidationProblem, ProblemHttpResult>> CreateAsync(
        AssistantWrite body, ClaimsPrincipal principal, AppDbContext db, TimeProvider time, CancellationToken cancellationToken)
    {
        var caller = principal.AiCaller();
        if (caller.Role == Roles.User)
        {
            return ApiProblem.Of(ErrorCode.Forbidden, detail: "Only admins make assistants; use a shared one or ask an admin.");
        }
        var errors = new Dictionary<string, string[]>();
        var model = await CheckAsync(body, principal, db, errors, cancellationToken);
        if (errors.Count > 0)
        {
            return ApiProblem.Validation(errors);
        }
        var now = time.GetUtcNow();
        var assistant = new Assistant
        {
            Id = Guid.CreateVersion7(now),
            OwnerUserId = caller.UserId,
            Shared = body.Shared ?? false,
            Tools = "[]",
            Metadata = "{}",
            CreatedAt = now,
        };
        Apply(assistant, body, model);
        db.Assistants.Add(assistant);
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Ok(await ViewAsync(db, assistant, cancellationToken));
    }

    /// <summary>Mine and the shared ones, newest first by default; ids are time-ordered, so they are the cursor.</summary>
    internal static async Task<Results<Ok<ListObject<AssistantObject>>, ValidationProblem>> ListAsync(ClaimsPrincipal principal, AppDbContext db, CancellationToken cancellationToken,
        int? limit = null, string? order = null, string? after = null, string? before = null)
    {
        var errors = new Dictionary<string, string[]>();
        var page = Paging.ReadOpenAI(limit, order, errors);
        Guid afterId = default, beforeId = default;
        if (after is not null && !OpenAIIds.TryParse(OpenAIIds.Assistant, after, out afterId))
        {
            errors["after"] = ["Not an assistant id (asst_…)."];
        }
        if (before is not null && !OpenAIIds.TryParse(OpenAIIds.Assistant, before, out beforeId))
        {
            errors["before"] = ["Not an assistant id (asst_…)."];
        }
        if (errors.Count > 0)
        {
            return ApiProblem.Validation(errors);
        }
        var userId = principal.UserId();
        var query = db.Assistants.AsNoTracking().Where(a => a.Shared || a.OwnerUserId == userId);
        var (rows, more) = await Paging.OpenAIPageAsync(query, a => a.Id, page, after is null ? null : afterId, before is null ? null : beforeId, cancellationToken);
        var views = new List<AssistantObject>(rows.Count);
        foreach (var row in rows)
        {
            views.Add(await ViewAsync(db, row, cancellationToken));
        }
        return TypedResults.Ok(ThreadViews.List(views, more, a => a.Id));
    }

    internal static async Task<Results<Ok<AssistantObject>, ProblemHttpResult>> GetAsync(string assistant_id, ClaimsPrincipal principal, AppDbContext db, CancellationToken cancellationToken)
    {
        var userId = principal.UserId();
        return OpenAIIds.TryParse(OpenAIIds.Assistant, assistant_id, out var id)
            && await db.Assistants.AsNoTracking().FirstOrDefaultAsync(a => a.Id == id && (a.Shared || a.OwnerUserId == userId), cancellationToken) is { } assistant
            ? TypedResults.Ok(await ViewAsync(db, assistant, cancellationToken))
            : ApiProblem.Of(ErrorCode.NotFound);
    }

    internal static async Task<Results<Ok<AssistantObject>, ValidationProblem, ProblemHttpResult>> ModifyAsync(
        string assistant_id, AssistantWrite body, ClaimsPrincipal principal, AppDbContext db, CancellationToken cancellationToken)
    {
        if (await EditableAsync(assistant_id, principal, db, cancellationToken) is not { } assistant)
        {
            return ApiProblem.Of(ErrorCode.NotFound);
        }
        var errors = new Dictionary<string, string[]>();
        var model = await CheckAsync(body, principal, db, errors, cancellationToken);
        if (errors.Count > 0)
        {
            return ApiProblem.Validation(errors);
        }
        Apply(assistant, body, model);
        if (body.Shared is { } shared)
        {
            assistant.Shared = shared || assistant.OwnerUserId is null;
        }
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Ok(await ViewAsync(db, assistant, cancellationToken));
    }

    internal static async Task<Results<Ok<DeletedObject>, ProblemHttpResult>> DeleteAsync(string assistant_id, ClaimsPrincipal principal, AppDbContext db, CancellationToken cancellationToken)
    {
        if (await EditableAsync(assistant_id, principal, db, cancellationToken) is not { } assistant || assistant.Id == RunStore.BuiltInAssistant)
        {
            return ApiProblem.Of(ErrorCode.NotFound);
        }
        db.Assistants.Remove(assistant);
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Ok(new DeletedObject(assistant_id, "assistant.deleted", true));
    }

    /// <summary>Mine, or any as a super admin (the built-in one included); others are 404 even when shared.</summary>
    private static async Task<Assistant?> EditableAsync(string text, ClaimsPrincipal principal, AppDbContext db, CancellationToken cancellationToken)
    {
        var userId = principal.UserId();
        var all = principal.IsSuperAdmin();
        return OpenAIIds.TryParse(OpenAIIds.Assistant, text, out var id)
            ? await db.Assistants.FirstOrDefaultAsync(a => a.Id == id && (all || a.OwnerUserId == userId), cancellationToken)
            : null;
    }

    private static async Task<(string ProviderId, string ModelId)?> CheckAsync(AssistantWrite body, ClaimsPrincipal principal, AppDbContext db, Dictionary<string, string[]> errors, CancellationToken cancellationToken)
    {
        if (body.Name is { Length: > MaxName })
        {
            errors["name"] = [$"At most {MaxName} characters."];
        }
        if (body.Description is { Length: > MaxDescription })
        {
            errors["description"] = [$"At most {MaxDescription} characters."];
        }
        if (body.Instructions is { Length: > MaxInstructions })
        {
            errors["instructions"] = [$"At most {MaxInstructions} characters."];
        }
        CheckTools(body.Tools, errors);
        if (body.Temperature is { } temperature && !(temperature >= 0 && temperature <= 2)) // NaN too
        {
            errors["temperature"] = ["The temperature must be between 0 and 2."];
        }
        if (body.TopP is { } topP && !(topP >= 0 && topP <= 1))
        {
            errors["top_p"] = ["top_p must be between 0 and 1."];
        }
        if (body.Shared == true && !principal.IsSuperAdmin())
        {
            errors["shared"] = ["Only a super admin shares an assistant with everyone."];
        }
        ThreadInput.CheckMetadata(body.Metadata, "metadata", errors);
        if (body.Model is not { Length: > 0 } wanted)
        {
            return null;
        }
        var (provider, model) = wanted.IndexOf('/', StringComparison.Ordinal) is > 0 and var slash
            && await db.Providers.AnyAsync(p => p.Id == wanted.Substring(0, slash), cancellationToken)
            ? (wanted[..slash], wanted[(slash + 1)..])
            : ((string?)null, wanted);
        var candidates = await db.Models.AsNoTracking()
            .Where(m => m.ModelId == model && (provider == null || m.ProviderId == provider))
            .OrderBy(m => m.ProviderId).ToListAsync(cancellationToken);
        var chat = candidates.FirstOrDefault(m => m.IsEnabled && m.Has(Capabilities.Chat));
        if (chat is null)
        {
            errors["model"] = [$"No enabled chat model '{wanted}' in the catalogue."];
            return null;
        }
        return (chat.ProviderId, chat.ModelId);
    }

    /// <summary>Function tools as OpenAI takes them: a name of letters, digits, _ and -, and parameters that are a JSON Schema.</summary>
    private static void CheckTools(List<JsonElement>? tools, Dictionary<string, string[]> errors)
    {
        if (tools is null)
        {
            return;
        }
        if (tools.Count > MaxTools)
        {
            errors["tools"] = [$"At most {MaxTools} tools."];
            return;
        }
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < tools.Count; i++)
        {
            var tool = tools[i];
            if (tool.ValueKind != JsonValueKind.Object || !tool.TryGetProperty("type", out var type) || !type.ValueEquals("function")
                || !tool.TryGetProperty("function", out var function) || function.ValueKind != JsonValueKind.Object)
            {
                errors[$"tools[{i}]"] = ["Only function tools are supported: {\"type\": \"function\", \"function\": {\"name\", \"description\", \"parameters\"}}."];
                continue;
            }
            if (!function.TryGetProperty("name", out var name) || name.ValueKind != JsonValueKind.String || !ToolName().IsMatch(name.GetString()!) || !names.Add(name.GetString()!))
            {
                errors[$"tools[{i}].function.name"] = ["A unique name of 1 to 64 letters, digits, _ or -."];
            }
            if (function.TryGetProperty("parameters", out var parameters) && JsonSchemaValidator.CheckSchema(parameters) is { Count: > 0 } problems)
            {
                errors[$"tools[{i}].function.parameters"] = [.. problems];
            }
        }
    }

    [System.Text.RegularExpressions.GeneratedRegex("^[a-zA-Z0-9_-]{1,64}$")]
    private static partial System.Text.RegularExpressions.Regex ToolName();

    private static void Apply(Assistant assistant, AssistantWrite body, (string ProviderId, string ModelId)? model)
    {
        if (model is { } chosen)
        {
            (assistant.ProviderId, assistant.ModelId) = chosen;
        }
        assistant.Name = body.Name ?? assistant.Name;
        assistant.Description = body.Description ?? assistant.Description;
        assistant.Instructions = body.Instructions ?? assistant.Instructions;
        assistant.Temperature = body.Temperature ?? assistant.Temperature;
        assistant.TopP = body.TopP ?? assistant.TopP;
        if (body.Metadata is { } metadata)
        {
            assistant.Metadata = JsonSerializer.Serialize(metadata);
        }
        if (body.Tools is { } tools)
        {
            assistant.Tools = JsonSerializer.Serialize(tools);
        }
    }

    private static async Task<AssistantObject> ViewAsync(AppDbContext db, Assistant assistant, CancellationToken cancellationToken)
    {
        var model = assistant.ModelId ?? await db.Sections.AsNoTracking().Where(s => s.Name == Sections.Chat).Select(s => s.ModelId).FirstAsync(cancellationToken);
        return new AssistantObject(OpenAIIds.Of(OpenAIIds.Assistant, assistant.Id), "assistant", assistant.CreatedAt.ToUnixTimeSeconds(), assistant.Name, assistant.Description,
            model, assistant.Instructions, JsonSerializer.Deserialize<List<JsonElement>>(assistant.Tools) ?? [],
            JsonSerializer.Deserialize<Dictionary<string, string>>(assistant.Metadata) ?? [], assistant.Temperature, assistant.TopP, "auto", assistant.Shared);
    }
}
