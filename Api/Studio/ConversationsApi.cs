using System.Security.Claims;
using System.Text.Json;
using System.Text.Json.Serialization;
using AiPrompts.Api.Auth;
using AiPrompts.Api.Errors;
using AiPrompts.Api.Jobs;
using AiPrompts.Core.ApiKeys;
using AiPrompts.Core.Assistants;
using AiPrompts.Core.Budgets;
using AiPrompts.Core.Data;
using AiPrompts.Core.Errors;
using AiPrompts.Core.Jobs;
using AiPrompts.Core.Providers;
using AiPrompts.Core.Studio;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace AiPrompts.Api.Studio;

public sealed record ConversationCreate([property: JsonPropertyName("metadata")] Dictionary<string, string>? Metadata = null);

/// <summary>A user message: the text, and what the refinement and the image take from it.</summary>
public sealed record ConversationMessageCreate(
    [property: JsonPropertyName("content")] string? Content,
    [property: JsonPropertyName("style")] string? Style = null,
    [property: JsonPropertyName("lang")] string? Lang = null,
    [property: JsonPropertyName("topic")] string? Topic = null,
    [property: JsonPropertyName("image_url")] string? ImageUrl = null,
    [property: JsonPropertyName("size")] string? Size = null,
    [property: JsonPropertyName("store")] bool? Store = null);

public sealed record StudioError(
    [property: JsonPropertyName("code")] string Code,
    [property: JsonPropertyName("message")] string Message,
    [property: JsonPropertyName("recovery_action")] string RecoveryAction);

/// <summary>A message with the document's fields: intent, refined_prompt, image_url, status (PROCESSING, DONE, or FAILED with why), request_id.</summary>
public sealed record ConversationMessage(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("conversation_id")] string ConversationId,
    [property: JsonPropertyName("role")] string Role,
    [property: JsonPropertyName("content")] string Content,
    [property: JsonPropertyName("intent")] string? Intent,
    [property: JsonPropertyName("refined_prompt")] string? RefinedPrompt,
    [property: JsonPropertyName("image_url")] string? ImageUrl,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("request_id")] string? RequestId,
    [property: JsonPropertyName("error")] StudioError? Error,
    [property: JsonPropertyName("created_at")] DateTimeOffset CreatedAt);

public sealed record Conversation(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("created_at")] DateTimeOffset CreatedAt,
    [property: JsonPropertyName("metadata")] Dictionary<string, string> Metadata,
    [property: JsonPropertyName("messages")] IReadOnlyList<ConversationMessage> Messages);

public sealed record ConversationMessages([property: JsonPropertyName("data")] IReadOnlyList<ConversationMessage> Data);

/// <summary>
/// The Vietnamese document's conversation service: sessions and messages, a user message's
/// intent, refined prompt and image worked out in the background as a chain of jobs (refine, then image or
/// answer), never in the request. A conversation is an assistants thread (<c>thread_…</c>): one store of
/// conversations for both surfaces, one owner rule (others get 404), and one delete that stops their work.
/// </summary>
internal static class ConversationsApi
{
    public static IEndpointRouteBuilder MapConversationsApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/v1/conversations").WithTags("Studio").RequireScope(ApiKeyScopes.Prompts);
        group.MapPost("/", CreateAsync).WithName("CreateConversation").WithSummary("Start a conversation");
        group.MapGet("/{conversation_id}", GetAsync).WithName("GetConversation").WithSummary("One of my conversations, with its messages");
        group.MapDelete("/{conversation_id}", DeleteAsync).WithName("DeleteConversation").WithSummary("Delete a conversation with its messages; its work in progress stops");
        group.MapPost("/{conversation_id}/messages", PostMessageAsync).WithName("PostConversationMessage")
            .WithSummary("Add a user message: 202 PROCESSING while its intent, refined prompt and (for an image intent) image or (else) answer are worked out in the background");
        group.MapGet("/{conversation_id}/messages", ListMessagesAsync).WithName("ListConversationMessages").WithSummary("A conversation's messages, oldest first");
        group.MapGet("/{conversation_id}/messages/{message_id}", GetMessageAsync).WithName("GetConversationMessage").WithSummary("One message, as it stands");
        group.MapGet("/{conversation_id}/events", EventsAsync).WithName("ConversationEvents").Produces<ConversationMessage>(StatusCodes.Status200OK, "text/event-stream")
            .WithSummary("Server-sent events: ready, then each message as it is now and again whenever it changes (event: message), ping while quiet");
        return app;
    }

    internal static async Task<Created<Conversation>> CreateAsync(ConversationCreate? body, ClaimsPrincipal principal, ThreadStore threads, CancellationToken cancellationToken)
    {
        var thread = await threads.CreateThreadAsync(principal.AiCaller().UserId, body?.Metadata, [], cancellationToken);
        var id = OpenAIIds.Of(OpenAIIds.Thread, thread.Id);
        return TypedResults.Created($"/v1/conversations/{id}", new Conversation(id, thread.CreatedAt, body?.Metadata ?? [], []));
    }

    internal static async Task<Results<Ok<Conversation>, ProblemHttpResult>> GetAsync(
        string conversation_id, ClaimsPrincipal principal, ThreadStore threads, MessageViews views, CancellationToken cancellationToken)
    {
        if (await FindAsync(conversation_id, principal, threads, cancellationToken) is not { } thread)
        {
            return ApiProblem.Of(ErrorCode.NotFound);
        }
        return TypedResults.Ok(new Conversation(conversation_id, thread.CreatedAt, JsonSerializer.Deserialize<Dictionary<string, string>>(thread.Metadata) ?? [],
            await views.ListAsync(thread.Id, cancellationToken)));
    }

    internal static async Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(string conversation_id, ClaimsPrincipal principal, ThreadStore threads, CancellationToken cancellationToken) =>
        OpenAIIds.TryParse(OpenAIIds.Thread, conversation_id, out var id) && await threads.DeleteThreadAsync(principal.AiCaller().UserId, id, cancellationToken)
            ? TypedResults.NoContent()
            : ApiProblem.Of(ErrorCode.NotFound);

    internal static async Task<Results<Accepted<ConversationMessage>, ValidationProblem, ProblemHttpResult>> PostMessageAsync(
        string conversation_id, ConversationMessageCreate body, ClaimsPrincipal principal, ThreadStore threads, AppDbContext db, AiAccess access,
        JobScheduler scheduler, JobSubmission submission, ChargeEstimator charges, IOptions<StudioOptions> options, TimeProvider time, CancellationToken cancellationToken)
    {
        if (await FindAsync(conversation_id, principal, threads, cancellationToken) is not { } thread)
        {
            return ApiProblem.Of(ErrorCode.NotFound);
        }
        var errors = new Dictionary<string, string[]>();
        StudioRequests.CheckRefinement(body.Content, body.Style, body.Lang, body.Topic, body.ImageUrl, "content", options.Value, errors);
        var (width, height) = StudioRequests.CheckSize(body.Size, errors);
        if (errors.Count > 0)
        {
            return ApiProblem.Validation(errors);
        }
        // The first step's model is decided now, so that a missing model or key is this call's clear refusal.
        var caller = principal.AiCaller();
        var (decision, refused) = await StudioRequests.DecideAsync(access, caller, Sections.Content, null, null, cancellationToken);
        if (refused is not null)
        {
            return refused;
        }
        var keep = body.Store ?? await StudioRequests.StoreByDefaultAsync(db, Sections.Image, cancellationToken);
        var text = body.Content!.Trim();
        var now = time.GetUtcNow();
        var request = new StudioRequest
        {
            Id = Guid.CreateVersion7(now), UserId = caller.UserId, Kind = PromptRefineHandler.JobKind, ProviderId = decision.ProviderId, ModelId = decision.ModelId,
            Prompt = text, Style = StudioRequests.Clean(body.Style), Lang = StudioRequests.Clean(body.Lang), Topic = StudioRequests.Clean(body.Topic), ImageUrl = StudioRequests.Clean(body.ImageUrl),
            Width = width, Height = height, Store = keep, CreatedAt = now,
        };
        // The message is admitted against the budgets as a whole here; its later steps reserve nothing more.
        var job = scheduler.Create(PromptRefineHandler.JobKind, request.Id, options.Value.MaxAttempts, charges.For(caller, decision.Model, text));
        request.JobId = job.Id;
        ThreadMessage? message = null;
        ThreadBusy? busy = null;
        var submitted = await submission.SubmitAsync([job], async ct =>
        {
            (message, busy) = await threads.AddMessageAsync(thread.Id, "user", text, null, ct, async (added, inner) =>
            {
                db.Jobs.Add(job);
                await db.SaveChangesAsync(inner);
                request.MessageId = added.Id;
                db.StudioRequests.Add(request);
                added.StudioStatus = StudioStatus.Processing;
                added.StudioRequestId = request.Id;
                await db.SaveChangesAsync(inner);
            });
            return busy is null;
        }, cancellationToken);
        if (submitted.Refusal is { } refusal)
        {
            return refusal;
        }
        if (busy is not null)
        {
            return ApiProblem.Of(ThreadBusy.Code, busy.Args);
        }
        // The message as this call made it (PROCESSING): its steps may be under way already, and a client polls for them.
        var view = MessageViews.View(message!, imageUrl: null, error: null);
        return TypedResults.Accepted($"/v1/conversations/{conversation_id}/messages/{view.Id}", view);
    }

    internal static async Task<Results<Ok<ConversationMessages>, ProblemHttpResult>> ListMessagesAsync(
        string conversation_id, ClaimsPrincipal principal, ThreadStore threads, MessageViews views, CancellationToken cancellationToken) =>
        await FindAsync(conversation_id, principal, threads, cancellationToken) is { } thread
            ? TypedResults.Ok(new ConversationMessages(await views.ListAsync(thread.Id, cancellationToken)))
            : ApiProblem.Of(ErrorCode.NotFound);

    internal static async Task<Results<Ok<ConversationMessage>, ProblemHttpResult>> GetMessageAsync(
        string conversation_id, string message_id, ClaimsPrincipal principal, ThreadStore threads, MessageViews views, CancellationToken cancellationToken) =>
        await FindAsync(conversation_id, principal, threads, cancellationToken) is { } thread
        && OpenAIIds.TryParse(OpenAIIds.Message, message_id, out var id) && await views.FindAsync(thread.Id, id, cancellationToken) is { } view
            ? TypedResults.Ok(view)
            : ApiProblem.Of(ErrorCode.NotFound);

    internal static async Task<Results<ServerSentEventsResult<string>, ProblemHttpResult>> EventsAsync(
        string conversation_id, ClaimsPrincipal principal, ThreadStore threads, MessageViews views, JobEvents events, TimeProvider time, CancellationToken cancellationToken) =>
        await FindAsync(conversation_id, principal, threads, cancellationToken) is { } thread
            ? TypedResults.ServerSentEvents(new ConversationEventStream(thread.Id, views, events, time).ReadAsync(cancellationToken))
            : ApiProblem.Of(ErrorCode.NotFound);

    private static async Task<AssistantThread?> FindAsync(string conversationId, ClaimsPrincipal principal, ThreadStore threads, CancellationToken cancellationToken) =>
        OpenAIIds.TryParse(OpenAIIds.Thread, conversationId, out var id) ? await threads.FindThreadAsync(principal.AiCaller().UserId, id, cancellationToken) : null;
}
