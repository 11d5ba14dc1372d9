using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using AiPrompts.Api.Auth;
using AiPrompts.Api.Errors;
using AiPrompts.Api.Input;
using AiPrompts.Api.Jobs;
using AiPrompts.Core.ApiKeys;
using AiPrompts.Core.Data;
using AiPrompts.Core.Errors;
using AiPrompts.Core.Input;
using AiPrompts.Core.Jobs;
using AiPrompts.Core.PromptRequests;
using AiPrompts.Core.Providers;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Npgsql;

namespace AiPrompts.Api.PromptRequests;

/// <summary>
/// Prompt requests: submit, list, read, cancel and follow. Every request is saved with
/// who sent it, when and why, and runs on the job engine; its status is its job's, in the document's words.
/// </summary>
internal static partial class PromptRequestsApi
{
    private const string IdempotencyHeader = "Idempotency-Key";

    public static IEndpointRouteBuilder MapPromptRequestsApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/prompt-requests").WithTags("Prompt requests").RequireScope(ApiKeyScopes.Prompts);
        group.MapPost("/", SubmitAsync).WithName("SubmitPromptRequest").ProducesProblem(422)
            .WithSummary("Submit a prompt; 202 with its id, or its result with Prefer: wait=N (Idempotency-Key replays the first submit)");
        group.MapGet("/", ListAsync).WithName("ListPromptRequests")
            .WithSummary("My requests, newest first (a super admin sees everyone's), filtered and keyset-paginated");
        group.MapGet("/{id:guid}", GetAsync).WithName("GetPromptRequest").WithSummary("A request with its response, when there is one");
        group.MapPost("/{id:guid}/cancel", CancelAsync).WithName("CancelPromptRequest").ProducesProblem(409)
            .WithSummary("Cancel a pending request (never runs) or a generating one (the vendor call is aborted)");
        group.MapGet("/{id:guid}/events", EventsAsync).WithName("PromptRequestEvents")
            .WithSummary("Server-sent events: status changes, the text as it streams, then the result");
        app.MapGet("/api/v1/prompt-types", ListTypes).RequireScope(ApiKeyScopes.Prompts).WithTags("Prompt requests").WithName("ListPromptTypes")
            .WithSummary("The prompt types and the section each one uses by default");
        return app;
    }

    internal static Ok<DataEnvelope<IReadOnlyList<PromptTypeResponse>>> ListTypes(PromptTypes types)
    {
        IReadOnlyList<PromptTypeResponse> list = [.. types.Names.Order(StringComparer.Ordinal).Select(n => new PromptTypeResponse(n, types.Find(n)!.Section))];
        return TypedResults.Ok(DataEnvelope.Of(list));
    }

    internal static async Task<Results<Ok<DataEnvelope<PromptRequestDetail>>, Accepted<DataEnvelope<PromptRequestDetail>>, ValidationProblem, ProblemHttpResult>> SubmitAsync(
        SubmitPromptRequest body,
        [FromHeader(Name = IdempotencyHeader)] string? idempotencyKey,
        HttpContext http,
        ClaimsPrincipal principal,
        AppDbContext db,
        PromptRequestFactory factory,
        PromptTypes types,
        JobSubmission submission,
        PromptRequestReader reader,
        MessageCatalog messages,
        IOptions<PromptRequestOptions> options,
        CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var errors = Validate(body, idempotencyKey, http.Request.Headers[IdempotencyHeader].Count, types, settings);
        if (errors.Count > 0)
        {
            return ApiProblem.Validation(errors);
        }
        var caller = principal.AiCaller();
        var language = messages.ChooseLanguage(ProblemDetailsEnricher.PreferredLanguages(http.Request));
        var wait = PreferWait.Of(http.Request, settings.MaxWait);
        var type = types.Find(body.PromptType!)!;
        byte[]? hash = null;
        if (idempotencyKey is not null)
        {
            // Store left out means the section's default: the same request as one that states it.
            var store = body.Store ?? await db.Sections.AsNoTracking().Where(s => s.Name == type.Section).Select(s => s.StoreByDefault).FirstAsync(cancellationToken);
            hash = Hash(body, store);
            if (await ReplayAsync(http, principal, db, reader, idempotencyKey, hash, language, cancellationToken) is { } replay)
            {
                return replay;
            }
        }

        var metadata = body.Metadata is { ValueKind: JsonValueKind.Object } m ? m.GetRawText() : null;
        var (request, job, refusal) = await factory.AddAsync(caller,
            new NewPromptRequest(type.Name, type.Section, body.PromptText!, body.Provider, body.Model, body.Purpose, metadata, body.Store, idempotencyKey, hash),
            cancellationToken);
        if (refusal is not null)
        {
            return refusal;
        }
        var conflict = false;
        var submitted = await submission.SubmitAsync([job!], async ct =>
        {
            try
            {
                await db.SaveChangesAsync(ct);
                return true;
            }
            catch (DbUpdateException ex) when (ex.InnerException is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation, ConstraintName: "ux_prompt_requests_idempotency" })
            {
                conflict = true;
                return false;
            }
        }, cancellationToken, wait);
        if (submitted.Refusal is { } refused)
        {
            return refused;
        }
        if (conflict)
        {
            // The same key submitted twice at once: the other one won; answer as it did.
            db.ChangeTracker.Clear();
            return await ReplayAsync(http, principal, db, reader, idempotencyKey!, hash!, language, cancellationToken)
                ?? throw new InvalidOperationException("The conflicting request vanished.");
        }
        return await AnswerAsync(http, principal, reader, request!, job!, submitted, wait, language, cancellationToken);
    }

    /// <summary>
    /// The answer to a request just saved: 200 with the result when it finished within the wait the caller
    /// asked for, else 202 with its Location (without a wait, built from the rows just written).
    /// </summary>
    internal static async Task<Results<Ok<DataEnvelope<PromptRequestDetail>>, Accepted<DataEnvelope<PromptRequestDetail>>, ValidationProblem, ProblemHttpResult>> AnswerAsync(
        HttpContext http, ClaimsPrincipal principal, PromptRequestReader reader, PromptRequest request, Job job,
        Submission submitted, TimeSpan wait, string language, CancellationToken cancellationToken)
    {
        if (wait > TimeSpan.Zero)
        {
            http.Response.Headers["Preference-Applied"] = $"wait={(int)wait.TotalSeconds}";
            if (submitted.Finished)
            {
                var done = await reader.FindAsync(principal, request.Id, cancellationToken);
                return TypedResults.Ok(DataEnvelope.Of(await reader.DetailAsync(done!, language, cancellationToken)));
            }
        }
        var row = wait == TimeSpan.Zero ? new PromptRequestRow(request, job, null) : await reader.FindAsync(principal, request.Id, cancellationToken);
        return TypedResults.Accepted($"/api/v1/prompt-requests/{request.Id}", DataEnvelope.Of(await reader.DetailAsync(row!, language, cancellationToken)));
    }

    /// <summary>
    /// The first request made with this key: replayed as it stands now (with <c>Idempotent-Replayed: true</c>),
    /// or 422 when the request means something else.
    /// </summary>
    private static async Task<Results<Ok<DataEnvelope<PromptRequestDetail>>, Accepted<DataEnvelope<PromptRequestDetail>>, ValidationProblem, ProblemHttpResult>?> ReplayAsync(
        HttpContext http,
        ClaimsPrincipal principal, AppDbContext db, PromptRequestReader reader, string key, byte[] hash, string language, CancellationToken cancellationToken)
    {
        var userId = principal.UserId();
        var first = await db.PromptRequests.AsNoTracking()
            .Where(r => r.UserId == userId && r.IdempotencyKey == key)
            .Select(r => new { r.Id, r.RequestHash })
            .FirstOrDefaultAsync(cancellationToken);
        if (first is null)
        {
            return null;
        }
        if (first.RequestHash is null || !CryptographicOperations.FixedTimeEquals(first.RequestHash, hash))
        {
            return ApiProblem.Of(ErrorCode.IdempotencyKeyReused);
        }
        var row = await reader.FindAsync(principal, first.Id, cancellationToken);
        http.Response.Headers["Idempotent-Replayed"] = "true";
        return TypedResults.Accepted($"/api/v1/prompt-requests/{first.Id}", DataEnvelope.Of(await reader.DetailAsync(row!, language, cancellationToken)));
    }

    internal static async Task<Results<Ok<PageEnvelope<PromptRequestSummary>>, ValidationProblem, ProblemHttpResult>> ListAsync(
        ClaimsPrincipal principal,
        AppDbContext db,
        CancellationToken cancellationToken,
        string? status = null,
        string? type = null,
        string? provider = null,
        string? model = null,
        DateTimeOffset? from = null,
        DateTimeOffset? to = null,
        Guid? userId = null,
        int? limit = null,
        string? cursor = null)
    {
        var errors = new Dictionary<string, string[]>();
        var page = Paging.Read(limit, cursor, errors);
        string[] statuses = status is null ? [] : status.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (statuses.Except(PromptRequestStatus.All).ToArray() is { Length: > 0 } unknown)
        {
            errors["status"] = [$"Unknown status: {string.Join(", ", unknown)}. Known: {string.Join(", ", PromptRequestStatus.All)}."];
        }
        if (errors.Count > 0)
        {
            return ApiProblem.Validation(errors);
        }
        if (!principal.MayList(userId, Visibility.Overseen))
        {
            return ApiProblem.Of(ErrorCode.Forbidden, detail: "Only a super admin can list other users' requests.");
        }

        var query =
            from r in db.PromptRequests.AsNoTracking()
            join j in db.Jobs.AsNoTracking() on r.JobId equals j.Id
            select new { r, j };
        var owner = principal.ListedOwner(userId, Visibility.Overseen);
        if (owner is { } ownerId)
        {
            query = query.Where(x => x.r.UserId == ownerId);
        }
        if (statuses.Length > 0)
        {
            var jobStatuses = statuses.Select(PromptRequestStatus.ToJob).ToList();
            query = query.Where(x => jobStatuses.Contains(x.j.Status));
        }
        if (type is not null)
        {
            query = query.Where(x => x.r.PromptType == type);
        }
        if (provider is not null)
        {
            query = query.Where(x => x.r.ProviderId == provider);
        }
        if (model is not null)
        {
            query = query.Where(x => x.r.ModelId == model);
        }
        if (from is { } since)
        {
            query = query.Where(x => x.r.CreatedAt >= since);
        }
        if (to is { } until)
        {
            query = query.Where(x => x.r.CreatedAt < until);
        }
        var (rows, next) = Paging.Cut(await query.Window(page, x => x.r.CreatedAt, x => x.r.Id).ToListAsync(cancellationToken), page, x => (x.r.CreatedAt, x.r.Id));
        return TypedResults.Ok(new PageEnvelope<PromptRequestSummary>([.. rows.Select(x => PromptRequestReader.Summary(x.r, x.j))], next));
    }

    internal static async Task<Results<Ok<DataEnvelope<PromptRequestDetail>>, ProblemHttpResult>> GetAsync(
        Guid id, HttpContext http, ClaimsPrincipal principal, PromptRequestReader reader, MessageCatalog messages, CancellationToken cancellationToken)
    {
        var row = await reader.FindAsync(principal, id, cancellationToken);
        if (row is null)
        {
            return ApiProblem.Of(ErrorCode.NotFound);
        }
        var language = messages.ChooseLanguage(ProblemDetailsEnricher.PreferredLanguages(http.Request));
        http.Response.Headers.ContentLanguage = language;
        return TypedResults.Ok(DataEnvelope.Of(await reader.DetailAsync(row, language, cancellationToken)));
    }

    /// <summary>
    /// A pending request is cancelled at once and never runs. A generating one is told to stop (through
    /// Redis now, or the worker's next heartbeat); the answer waits up to 3 s for it, then says 202.
    /// </summary>
    internal static async Task<Results<Ok<DataEnvelope<PromptRequestDetail>>, Accepted<DataEnvelope<PromptRequestDetail>>, ProblemHttpResult>> CancelAsync(
        Guid id, HttpContext http, ClaimsPrincipal principal, AppDbContext db, PromptRequestReader reader, JobEvents events,
        JobCancellation cancellation, MessageCatalog messages, TimeProvider time, CancellationToken cancellationToken)
    {
        var row = await reader.FindAsync(principal, id, cancellationToken);
        if (row is null)
        {
            return ApiProblem.Of(ErrorCode.NotFound);
        }
        var language = messages.ChooseLanguage(ProblemDetailsEnricher.PreferredLanguages(http.Request));
        if (row.Job.Status is JobStatus.Succeeded or JobStatus.Failed)
        {
            return ApiProblem.Of(ErrorCode.NotCancellable);
        }
        if (row.Job.Status == JobStatus.Cancelled)
        {
            return TypedResults.Ok(DataEnvelope.Of(await reader.DetailAsync(row, language, cancellationToken)));
        }

        await using var finished = await JobWaiter.StartAsync(events, row.Job.Id);
        var done = await cancellation.CancelAsync(row.Job.Id, cancellationToken) switch
        {
            JobCancelResult.Requested => await finished.WaitAsync(db, TimeSpan.FromSeconds(3), time, cancellationToken),
            _ => true,
        };
        var current = await reader.FindAsync(principal, id, cancellationToken);
        if (current!.Job.Status is JobStatus.Succeeded or JobStatus.Failed)
        {
            return ApiProblem.Of(ErrorCode.NotCancellable); // it ended by itself meanwhile
        }
        var detail = DataEnvelope.Of(await reader.DetailAsync(current, language, cancellationToken));
        return done ? TypedResults.Ok(detail) : TypedResults.Accepted($"/api/v1/prompt-requests/{id}", detail);
    }

    internal static async Task<Results<ServerSentEventsResult<string>, ProblemHttpResult>> EventsAsync(
        Guid id, HttpContext http, ClaimsPrincipal principal, PromptRequestReader reader, JobEvents events, MessageCatalog messages,
        TimeProvider time, CancellationToken cancellationToken)
    {
        var row = await reader.FindAsync(principal, id, cancellationToken);
        if (row is null)
        {
            return ApiProblem.Of(ErrorCode.NotFound);
        }
        var language = messages.ChooseLanguage(ProblemDetailsEnricher.PreferredLanguages(http.Request));
        return TypedResults.ServerSentEvents(new PromptRequestEventStream(id, principal, reader, events, language, time).ReadAsync(cancellationToken));
    }

    private static Dictionary<string, string[]> Validate(SubmitPromptRequest body, string? idempotencyKey, int idempotencyHeaders, PromptTypes types, PromptRequestOptions settings)
    {
        var errors = new Dictionary<string, string[]>();
        ValidatePrompt(body.PromptType, body.PromptText, ("promptType", "promptText"), types, settings, errors);
        ValidateOptions(body.Provider, body.Model, body.Purpose, body.Metadata, settings, errors);
        if (idempotencyHeaders > 1)
        {
            // Two keys are ambiguous: which request is this one the retry of?
            errors[IdempotencyHeader] = ["Send one Idempotency-Key header, not several."];
        }
        else if (idempotencyKey is not null && (idempotencyKey.Length is 0 or > 200 || idempotencyKey.Any(c => c is < (char)0x21 or > (char)0x7E or ',')))
        {
            // No comma: a proxy joining two headers into one would otherwise make a new, valid-looking key.
            errors[IdempotencyHeader] = ["The Idempotency-Key header is 1 to 200 visible ASCII characters, without commas."];
        }
        return errors;
    }

    /// <summary>The prompt type (known) and text (given, within PromptRequests:MaxPromptLength), under the fields the surface names them.</summary>
    internal static void ValidatePrompt(string? promptType, string? promptText, (string Type, string Text) fields, PromptTypes types, PromptRequestOptions settings,
        Dictionary<string, string[]> errors)
    {
        if (string.IsNullOrWhiteSpace(promptType))
        {
            errors[fields.Type] = ["The prompt type is required."];
        }
        else if (types.Find(promptType) is null)
        {
            errors[fields.Type] = [$"Unknown prompt type '{promptType}'. Known: {string.Join(", ", types.Names.Order(StringComparer.Ordinal))}."];
        }
        if (string.IsNullOrWhiteSpace(promptText))
        {
            errors[fields.Text] = ["The prompt text is required."];
        }
        else if (TextLength.Of(promptText) > settings.MaxPromptLength)
        {
            errors[fields.Text] = [$"The prompt text is longer than {settings.MaxPromptLength} characters."];
        }
    }

    /// <summary>The checks every way of making a request shares: provider, model, purpose and metadata.</summary>
    internal static void ValidateOptions(string? provider, string? model, Purpose? purpose, JsonElement? metadata, PromptRequestOptions settings, Dictionary<string, string[]> errors)
    {
        if (provider is not null && !ProviderRules.IsValidId(provider))
        {
            errors["provider"] = ["Unknown provider."];
        }
        if (model is not null && (model.Length == 0 || TextLength.Of(model) > 200))
        {
            errors["model"] = ["The model id must be 1 to 200 characters."];
        }
        if (purpose?.Code is { } code && !PurposeCodes.IsValid(code))
        {
            errors["purpose.code"] = [PurposeCodes.Rule];
        }
        if (purpose?.Text is { } purposeText && TextLength.Of(purposeText) > 2000)
        {
            errors["purpose.text"] = ["The purpose text is longer than 2000 characters."];
        }
        if (metadata is { } m && m.ValueKind != JsonValueKind.Null)
        {
            if (m.ValueKind != JsonValueKind.Object)
            {
                errors["metadata"] = ["The metadata must be a JSON object."];
            }
            else if (Encoding.UTF8.GetByteCount(m.GetRawText()) > settings.MaxMetadataBytes)
            {
                errors["metadata"] = [$"The metadata is larger than {settings.MaxMetadataBytes} bytes."];
            }
        }
    }

    /// <summary>
    /// What makes two submits "the same" for Idempotency-Key: their meaning, not their bytes. Whitespace and
    /// key order in the body (and in metadata) do not count, nor does a field left at its default.
    /// </summary>
    private static byte[] Hash(SubmitPromptRequest body, bool store) => SHA256.HashData(JsonSerializer.SerializeToUtf8Bytes(new object?[]
    {
        body.PromptType, body.PromptText, body.Provider, body.Model,
        string.IsNullOrEmpty(body.Purpose?.Code) ? null : body.Purpose.Code,
        string.IsNullOrEmpty(body.Purpose?.Text) ? null : body.Purpose.Text,
        body.Metadata is { ValueKind: JsonValueKind.Object } m && m.EnumerateObject().Any() ? CanonicalJson.Of(m) : null,
        store,
    }));
}
