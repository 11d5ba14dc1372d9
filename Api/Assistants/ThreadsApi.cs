using System.Security.Claims;
using System.Text.Json;
using AiPrompts.Api.Auth;
using AiPrompts.Api.Errors;
using AiPrompts.Api.Input;
using AiPrompts.Core.ApiKeys;
using AiPrompts.Core.Assistants;
using AiPrompts.Core.Data;
using AiPrompts.Core.Errors;
using AiPrompts.Core.Jobs;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace AiPrompts.Api.Assistants;

/// <summary>
/// The Korean document's API in the OpenAI Assistants v2 wire format: threads, their
/// messages, runs polled until done, and the one-call <c>/api/v1/chat</c>. Threads and runs belong to
/// their creator (anyone else gets 404); runs are jobs that the Worker runs.
/// </summary>
internal static class ThreadsApi
{
    public static IEndpointRouteBuilder MapThreadsApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1").WithTags("Assistants").RequireScope(ApiKeyScopes.Prompts);
        group.MapPost("/chat", ChatAsync).WithName("Chat").ProducesProblem(504)
            .WithSummary("Send a message and get the assistant's answer: a new thread without thread_id, the conversation continued with it");
        group.MapPost("/threads", CreateThreadAsync).WithName("CreateThread").WithSummary("Create a thread, with messages if given");
        group.MapGet("/threads/{thread_id}", GetThreadAsync).WithName("GetThread").WithSummary("One of my threads");
        group.MapPost("/threads/{thread_id}", ModifyThreadAsync).WithName("ModifyThread").WithSummary("Change a thread's metadata");
        group.MapDelete("/threads/{thread_id}", DeleteThreadAsync).WithName("DeleteThread").WithSummary("Delete a thread with its messages and runs");
        group.MapPost("/threads/runs", CreateThreadAndRunAsync).WithName("CreateThreadAndRun").ProducesRunOrStream()
            .WithSummary("Create a thread (with its messages) and run an assistant on it, in one call (stream: true streams it)");
        group.MapPost("/threads/{thread_id}/messages/{message_id}", ModifyMessageAsync).WithName("ModifyMessage").WithSummary("Change a message's metadata");
        group.MapDelete("/threads/{thread_id}/messages/{message_id}", DeleteMessageAsync).WithName("DeleteMessage").WithSummary("Delete a message (not while a run answers the thread)");
        group.MapPost("/threads/{thread_id}/messages", CreateMessageAsync).WithName("CreateMessage").WithSummary("Add a user message to a thread");
        group.MapGet("/threads/{thread_id}/messages", ListMessagesAsync).WithName("ListMessages")
            .WithSummary("A thread's messages, newest first by default (limit, order, after, before, run_id)");
        group.MapGet("/threads/{thread_id}/messages/{message_id}", GetMessageAsync).WithName("GetMessage").WithSummary("One message");
        group.MapPost("/threads/{thread_id}/runs", CreateRunAsync).WithName("CreateRun").ProducesRunOrStream()
            .WithSummary("Run an assistant on the thread: answers queued (poll the run), or with stream: true the run's events as OpenAI names them");
        group.MapGet("/threads/{thread_id}/runs", ListRunsAsync).WithName("ListRuns").WithSummary("A thread's runs, newest first");
        group.MapGet("/threads/{thread_id}/runs/{run_id}", GetRunAsync).WithName("GetRun").WithSummary("One run: poll until completed, failed, cancelled, incomplete or expired");
        group.MapGet("/threads/{thread_id}/runs/{run_id}/steps", ListRunStepsAsync).WithName("ListRunSteps")
            .WithSummary("A run's steps, newest first by default: its rounds of tool calls and the creation of its answer (limit, order, after, before)");
        group.MapGet("/threads/{thread_id}/runs/{run_id}/steps/{step_id}", GetRunStepAsync).WithName("GetRunStep").WithSummary("One step of a run");
        group.MapPost("/threads/{thread_id}/runs/{run_id}/submit_tool_outputs", SubmitToolOutputsAsync).WithName("SubmitToolOutputs").ProducesRunOrStream().ProducesProblem(409)
            .WithSummary("Give a run that requires action the outputs of its tool calls; it goes on (stream: true streams it)");
        group.MapPost("/threads/{thread_id}/runs/{run_id}/cancel", CancelRunAsync).ProducesProblem(409).WithName("CancelRun").WithSummary("Cancel a run that has not ended");
        return app;
    }

    /// <summary>A run as JSON, or with <c>stream: true</c> its events (each event's data a run or message object): both are declared.</summary>
    private static RouteHandlerBuilder ProducesRunOrStream(this RouteHandlerBuilder builder) =>
        builder.Produces<RunObject>(StatusCodes.Status200OK, "application/json", "text/event-stream");

    internal static async Task<Results<Ok<ChatAnswer>, ValidationProblem, ProblemHttpResult>> ChatAsync(
        ChatRequest body, ClaimsPrincipal principal, ThreadStore threads, RunStore runs, JobEvents events, IOptions<AssistantOptions> options, TimeProvider time, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        var text = ThreadInput.CheckText(body.Message, options.Value, "message", errors);
        Guid threadId = default;
        if (body.ThreadId is { } given && !OpenAIIds.TryParse(OpenAIIds.Thread, given, out threadId))
        {
            errors["thread_id"] = ["Not a thread id (thread_…)."];
        }
        if (errors.Count > 0)
        {
            return ApiProblem.Validation(errors);
        }
        var caller = principal.AiCaller();
        if (body.ThreadId is null)
        {
            threadId = (await threads.CreateThreadAsync(caller.UserId, null, [], cancellationToken)).Id;
        }
        else if (await threads.FindThreadAsync(caller.UserId, threadId, cancellationToken) is null)
        {
            return ApiProblem.Of(ErrorCode.NotFound);
        }
        var (run, refusal) = await runs.StartRunAsync(caller, threadId, new RunCreate(), text, cancellationToken);
        if (refusal is not null)
        {
            return refusal;
        }
        var wait = options.Value.ChatWait;
        var ended = await runs.WaitAsync(caller.UserId, run!.Run, wait, events, cancellationToken);
        var threadText = OpenAIIds.Of(OpenAIIds.Thread, threadId);
        var runText = OpenAIIds.Of(OpenAIIds.Run, run.Run.Id);
        if (ended is null || RunStatus.IsActive(ended.Status))
        {
            return ApiProblem.Of(ErrorCode.RunNotFinished, new Dictionary<string, string>
            {
                ["thread"] = threadText, ["run"] = runText, ["seconds"] = ((int)wait.TotalSeconds).ToString(System.Globalization.CultureInfo.InvariantCulture),
            });
        }
        if (ended.Status is not (RunStatus.Completed or RunStatus.Incomplete))
        {
            return ApiProblem.Of(ErrorCode.Find(ended.ErrorCode) ?? ErrorCode.InternalError, ended.ErrorArgs);
        }
        var answer = await runs.AnswerOfAsync(run.Run.Id, cancellationToken);
        return TypedResults.Ok(new ChatAnswer(answer?.Text ?? "", threadText, "assistant", (answer?.CreatedAt ?? time.GetUtcNow()).ToUnixTimeSeconds()));
    }

    internal static async Task<Results<Ok<ThreadObject>, ValidationProblem>> CreateThreadAsync(
        ThreadCreate? body, ClaimsPrincipal principal, ThreadStore threads, IOptions<AssistantOptions> options, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        ThreadInput.CheckMetadata(body?.Metadata, "metadata", errors);
        var messages = ThreadInput.CheckMessages(body?.Messages, "messages", options.Value, errors);
        if (errors.Count > 0)
        {
            return ApiProblem.Validation(errors);
        }
        var thread = await threads.CreateThreadAsync(principal.AiCaller().UserId, body?.Metadata, messages, cancellationToken);
        return TypedResults.Ok(ThreadViews.View(thread));
    }

    internal static async Task<Results<Ok<ThreadObject>, ProblemHttpResult>> GetThreadAsync(
        string thread_id, ClaimsPrincipal principal, ThreadStore threads, CancellationToken cancellationToken) =>
        OpenAIIds.TryParse(OpenAIIds.Thread, thread_id, out var id) && await threads.FindThreadAsync(principal.AiCaller().UserId, id, cancellationToken) is { } thread
            ? TypedResults.Ok(ThreadViews.View(thread))
            : ApiProblem.Of(ErrorCode.NotFound);

    internal static async Task<Results<Ok<ThreadObject>, ValidationProblem, ProblemHttpResult>> ModifyThreadAsync(
        string thread_id, ThreadModify body, ClaimsPrincipal principal, ThreadStore threads, AppDbContext db, CancellationToken cancellationToken)
    {
        if (!OpenAIIds.TryParse(OpenAIIds.Thread, thread_id, out var id) || await threads.FindThreadAsync(principal.AiCaller().UserId, id, cancellationToken) is not { } thread)
        {
            return ApiProblem.Of(ErrorCode.NotFound);
        }
        var errors = new Dictionary<string, string[]>();
        ThreadInput.CheckMetadata(body.Metadata, "metadata", errors);
        if (errors.Count > 0)
        {
            return ApiProblem.Validation(errors);
        }
        if (body.Metadata is { } metadata)
        {
            thread.Metadata = JsonSerializer.Serialize(metadata);
            db.Threads.Update(thread);
            await db.SaveChangesAsync(cancellationToken);
        }
        return TypedResults.Ok(ThreadViews.View(thread));
    }

    internal static async Task<Results<Ok<DeletedObject>, ProblemHttpResult>> DeleteThreadAsync(
        string thread_id, ClaimsPrincipal principal, ThreadStore threads, CancellationToken cancellationToken)
    {
        if (!OpenAIIds.TryParse(OpenAIIds.Thread, thread_id, out var id) || !await threads.DeleteThreadAsync(principal.AiCaller().UserId, id, cancellationToken))
        {
            return ApiProblem.Of(ErrorCode.NotFound);
        }
        return TypedResults.Ok(new DeletedObject(thread_id, "thread.deleted", true));
    }

    internal static async Task<Results<Ok<MessageObject>, ValidationProblem, ProblemHttpResult>> CreateMessageAsync(
        string thread_id, MessageCreate body, ClaimsPrincipal principal, ThreadStore threads, IOptions<AssistantOptions> options, CancellationToken cancellationToken)
    {
        var userId = principal.AiCaller().UserId;
        if (!OpenAIIds.TryParse(OpenAIIds.Thread, thread_id, out var id) || await threads.FindThreadAsync(userId, id, cancellationToken) is null)
        {
            return ApiProblem.Of(ErrorCode.NotFound);
        }
        var errors = new Dictionary<string, string[]>();
        var role = ThreadInput.CheckRole(body.Role, "role", errors, allowAssistant: true);
        var text = ThreadInput.CheckContent(body.Content, options.Value, "content", errors);
        ThreadInput.CheckMetadata(body.Metadata, "metadata", errors);
        if (errors.Count > 0)
        {
            return ApiProblem.Validation(errors);
        }
        var (message, busy) = await threads.AddMessageAsync(id, role, text, body.Metadata, cancellationToken);
        return busy is not null ? ApiProblem.Of(ThreadBusy.Code, busy.Args) : TypedResults.Ok(ThreadViews.View(message!));
    }

    internal static async Task<Results<Ok<ListObject<MessageObject>>, ValidationProblem, ProblemHttpResult>> ListMessagesAsync(
        string thread_id, ClaimsPrincipal principal, ThreadStore threads, AppDbContext db, CancellationToken cancellationToken,
        int? limit = null, string? order = null, string? after = null, string? before = null, string? run_id = null)
    {
        var userId = principal.AiCaller().UserId;
        if (!OpenAIIds.TryParse(OpenAIIds.Thread, thread_id, out var threadId) || await threads.FindThreadAsync(userId, threadId, cancellationToken) is null)
        {
            return ApiProblem.Of(ErrorCode.NotFound);
        }
        var errors = new Dictionary<string, string[]>();
        var page = Paging.ReadOpenAI(limit, order, errors);
        Guid afterId = default, beforeId = default, runId = default;
        if (after is not null && !OpenAIIds.TryParse(OpenAIIds.Message, after, out afterId))
        {
            errors["after"] = ["Not a message id (msg_…)."];
        }
        if (before is not null && !OpenAIIds.TryParse(OpenAIIds.Message, before, out beforeId))
        {
            errors["before"] = ["Not a message id (msg_…)."];
        }
        if (run_id is not null && !OpenAIIds.TryParse(OpenAIIds.Run, run_id, out runId))
        {
            errors["run_id"] = ["Not a run id (run_…)."];
        }
        if (errors.Count > 0)
        {
            return ApiProblem.Validation(errors);
        }
        var query = db.ThreadMessages.AsNoTracking().Where(m => m.ThreadId == threadId);
        if (run_id is not null)
        {
            query = query.Where(m => m.RunId == runId);
        }
        // A cursor is a message of this thread; its place is its seq.
        var afterSeq = after is null ? null : await db.ThreadMessages.Where(m => m.Id == afterId && m.ThreadId == threadId).Select(m => (long?)m.Seq).FirstOrDefaultAsync(cancellationToken);
        var beforeSeq = before is null ? null : await db.ThreadMessages.Where(m => m.Id == beforeId && m.ThreadId == threadId).Select(m => (long?)m.Seq).FirstOrDefaultAsync(cancellationToken);
        if (after is not null && afterSeq is null)
        {
            errors["after"] = [$"The thread has no message {after}."];
        }
        if (before is not null && beforeSeq is null)
        {
            errors["before"] = [$"The thread has no message {before}."];
        }
        if (errors.Count > 0)
        {
            return ApiProblem.Validation(errors);
        }
        var (rows, more) = await Paging.OpenAIPageAsync(query, m => m.Seq, page, afterSeq, beforeSeq, cancellationToken);
        return TypedResults.Ok(ThreadViews.List(rows.Select(ThreadViews.View).ToList(), more, m => m.Id));
    }

    internal static async Task<Results<Ok<MessageObject>, ProblemHttpResult>> GetMessageAsync(
        string thread_id, string message_id, ClaimsPrincipal principal, ThreadStore threads, AppDbContext db, CancellationToken cancellationToken)
    {
        if (!OpenAIIds.TryParse(OpenAIIds.Thread, thread_id, out var threadId) || !OpenAIIds.TryParse(OpenAIIds.Message, message_id, out var messageId)
            || await threads.FindThreadAsync(principal.AiCaller().UserId, threadId, cancellationToken) is null
            || await db.ThreadMessages.AsNoTracking().FirstOrDefaultAsync(m => m.Id == messageId && m.ThreadId == threadId, cancellationToken) is not { } message)
        {
            return ApiProblem.Of(ErrorCode.NotFound);
        }
        return TypedResults.Ok(ThreadViews.View(message));
    }

    internal static async Task<Results<Ok<RunObject>, ServerSentEventsResult<string>, ValidationProblem, ProblemHttpResult>> CreateRunAsync(
        string thread_id, RunCreate? body, HttpContext http, ClaimsPrincipal principal, ThreadStore threads, RunStore runs, JobEvents events,
        IOptions<AssistantOptions> options, CancellationToken cancellationToken)
    {
        var caller = principal.AiCaller();
        if (!OpenAIIds.TryParse(OpenAIIds.Thread, thread_id, out var threadId) || await threads.FindThreadAsync(caller.UserId, threadId, cancellationToken) is null)
        {
            return ApiProblem.Of(ErrorCode.NotFound);
        }
        var request = body ?? new RunCreate();
        var errors = new Dictionary<string, string[]>();
        ThreadInput.CheckRun(request, errors);
        var additional = ThreadInput.CheckMessages(request.AdditionalMessages, "additional_messages", options.Value, errors);
        if (errors.Count > 0)
        {
            return ApiProblem.Validation(errors);
        }
        var (view, refusal) = await runs.StartRunAsync(caller, threadId, request, null, cancellationToken, additional);
        if (refusal is not null)
        {
            return refusal;
        }
        return request.Stream == true
            ? Streamed(view!, runs, events, http, cancellationToken)
            : Polled(http, view!);
    }

    internal static async Task<Results<Ok<RunObject>, ServerSentEventsResult<string>, ValidationProblem, ProblemHttpResult>> CreateThreadAndRunAsync(
        ThreadAndRunCreate body, HttpContext http, ClaimsPrincipal principal, ThreadStore threads, RunStore runs, JobEvents events,
        IOptions<AssistantOptions> options, CancellationToken cancellationToken)
    {
        var caller = principal.AiCaller();
        var request = new RunCreate(body.AssistantId, body.Model, body.Instructions, null, body.Temperature, body.TopP, body.MaxCompletionTokens, body.Metadata, body.Stream);
        var errors = new Dictionary<string, string[]>();
        ThreadInput.CheckRun(request, errors);
        ThreadInput.CheckMetadata(body.Thread?.Metadata, "thread.metadata", errors);
        var messages = ThreadInput.CheckMessages(body.Thread?.Messages, "thread.messages", options.Value, errors);
        if (errors.Count > 0)
        {
            return ApiProblem.Validation(errors);
        }
        var thread = await threads.CreateThreadAsync(caller.UserId, body.Thread?.Metadata, messages, cancellationToken);
        var (view, refusal) = await runs.StartRunAsync(caller, thread.Id, request, null, cancellationToken);
        if (refusal is not null)
        {
            await threads.DeleteThreadAsync(caller.UserId, thread.Id, cancellationToken); // nothing half made stays behind
            return refusal;
        }
        return body.Stream == true
            ? Streamed(view!, runs, events, http, cancellationToken)
            : Polled(http, view!);
    }

    internal static async Task<Results<Ok<MessageObject>, ValidationProblem, ProblemHttpResult>> ModifyMessageAsync(
        string thread_id, string message_id, MessageModify body, ClaimsPrincipal principal, ThreadStore threads, AppDbContext db, CancellationToken cancellationToken)
    {
        if (!OpenAIIds.TryParse(OpenAIIds.Thread, thread_id, out var threadId) || !OpenAIIds.TryParse(OpenAIIds.Message, message_id, out var messageId)
            || await threads.FindThreadAsync(principal.AiCaller().UserId, threadId, cancellationToken) is null
            || await db.ThreadMessages.FirstOrDefaultAsync(m => m.Id == messageId && m.ThreadId == threadId, cancellationToken) is not { } message)
        {
            return ApiProblem.Of(ErrorCode.NotFound);
        }
        var errors = new Dictionary<string, string[]>();
        ThreadInput.CheckMetadata(body.Metadata, "metadata", errors);
        if (errors.Count > 0)
        {
            return ApiProblem.Validation(errors);
        }
        if (body.Metadata is { } metadata)
        {
            message.Metadata = JsonSerializer.Serialize(metadata);
            await db.SaveChangesAsync(cancellationToken);
        }
        return TypedResults.Ok(ThreadViews.View(message));
    }

    internal static async Task<Results<Ok<DeletedObject>, ProblemHttpResult>> DeleteMessageAsync(
        string thread_id, string message_id, ClaimsPrincipal principal, ThreadStore threads, CancellationToken cancellationToken)
    {
        if (!OpenAIIds.TryParse(OpenAIIds.Thread, thread_id, out var threadId) || !OpenAIIds.TryParse(OpenAIIds.Message, message_id, out var messageId)
            || await threads.FindThreadAsync(principal.AiCaller().UserId, threadId, cancellationToken) is null)
        {
            return ApiProblem.Of(ErrorCode.NotFound);
        }
        var (deleted, busy) = await threads.DeleteMessageAsync(threadId, messageId, cancellationToken);
        return busy is not null ? ApiProblem.Of(ThreadBusy.Code, busy.Args)
            : deleted ? TypedResults.Ok(new DeletedObject(message_id, "thread.message.deleted", true))
            : ApiProblem.Of(ErrorCode.NotFound);
    }

    internal static async Task<Results<Ok<ListObject<RunObject>>, ValidationProblem, ProblemHttpResult>> ListRunsAsync(
        string thread_id, ClaimsPrincipal principal, ThreadStore threads, RunStore runs, CancellationToken cancellationToken, int? limit = null, string? order = null)
    {
        var userId = principal.AiCaller().UserId;
        if (!OpenAIIds.TryParse(OpenAIIds.Thread, thread_id, out var threadId) || await threads.FindThreadAsync(userId, threadId, cancellationToken) is null)
        {
            return ApiProblem.Of(ErrorCode.NotFound);
        }
        var errors = new Dictionary<string, string[]>();
        var page = Paging.ReadOpenAI(limit, order, errors);
        if (errors.Count > 0)
        {
            return ApiProblem.Validation(errors);
        }
        var listed = await runs.ListRunsAsync(userId, threadId, page.Limit + 1, page.Ascending, cancellationToken);
        return TypedResults.Ok(ThreadViews.List(listed.Take(page.Limit).Select(r => r.View()).ToList(), listed.Count > page.Limit, r => r.Id));
    }

    internal static async Task<Results<Ok<RunObject>, ProblemHttpResult>> GetRunAsync(
        string thread_id, string run_id, HttpContext http, ClaimsPrincipal principal, RunStore runs, CancellationToken cancellationToken)
    {
        if (!OpenAIIds.TryParse(OpenAIIds.Thread, thread_id, out var threadId) || !OpenAIIds.TryParse(OpenAIIds.Run, run_id, out var runId)
            || await runs.FindRunAsync(principal.AiCaller().UserId, threadId, runId, cancellationToken) is not { } run)
        {
            return ApiProblem.Of(ErrorCode.NotFound);
        }
        return Polled(http, run);
    }

    internal static async Task<Results<Ok<ListObject<RunStepObject>>, ValidationProblem, ProblemHttpResult>> ListRunStepsAsync(
        string thread_id, string run_id, ClaimsPrincipal principal, RunStore runs, CancellationToken cancellationToken,
        int? limit = null, string? order = null, string? after = null, string? before = null)
    {
        if (!OpenAIIds.TryParse(OpenAIIds.Thread, thread_id, out var threadId) || !OpenAIIds.TryParse(OpenAIIds.Run, run_id, out var runId)
            || await runs.FindRunAsync(principal.AiCaller().UserId, threadId, runId, cancellationToken) is not { } run)
        {
            return ApiProblem.Of(ErrorCode.NotFound);
        }
        var errors = new Dictionary<string, string[]>();
        var page = Paging.ReadOpenAI(limit, order, errors);
        var steps = RunSteps.Of(run, await runs.AnswerOfAsync(runId, cancellationToken));
        int? Cursor(string? id, string field)
        {
            if (id is null)
            {
                return null;
            }
            if (!RunSteps.TryParse(id, runId, out var index) || index >= steps.Count)
            {
                errors[field] = [$"The run has no step {id}."];
            }
            return index;
        }
        var afterIndex = Cursor(after, "after");
        var beforeIndex = Cursor(before, "before");
        if (errors.Count > 0)
        {
            return ApiProblem.Validation(errors);
        }
        // A step's place is its index; "after" and "before" follow the order asked for, as for messages.
        IEnumerable<(RunStepObject Step, int Index)> ordered = steps.Select((step, i) => (step, i));
        ordered = page.Ascending ? ordered : ordered.Reverse();
        if (afterIndex is { } a)
        {
            ordered = ordered.Where(s => page.Ascending ? s.Index > a : s.Index < a);
        }
        if (beforeIndex is { } b)
        {
            ordered = ordered.Where(s => page.Ascending ? s.Index < b : s.Index > b);
        }
        var window = ordered.ToList();
        // With only "before", the page is the one nearest the cursor.
        var rows = (beforeIndex is not null && afterIndex is null ? window.TakeLast(page.Limit) : window.Take(page.Limit)).Select(s => s.Step).ToList();
        return TypedResults.Ok(ThreadViews.List(rows, window.Count > page.Limit, s => s.Id));
    }

    internal static async Task<Results<Ok<RunStepObject>, ProblemHttpResult>> GetRunStepAsync(
        string thread_id, string run_id, string step_id, ClaimsPrincipal principal, RunStore runs, CancellationToken cancellationToken)
    {
        if (!OpenAIIds.TryParse(OpenAIIds.Thread, thread_id, out var threadId) || !OpenAIIds.TryParse(OpenAIIds.Run, run_id, out var runId)
            || !RunSteps.TryParse(step_id, runId, out var index)
            || await runs.FindRunAsync(principal.AiCaller().UserId, threadId, runId, cancellationToken) is not { } run)
        {
            return ApiProblem.Of(ErrorCode.NotFound);
        }
        var steps = RunSteps.Of(run, await runs.AnswerOfAsync(runId, cancellationToken));
        return index < steps.Count ? TypedResults.Ok(steps[index]) : ApiProblem.Of(ErrorCode.NotFound);
    }

    /// <summary>The run's events as OpenAI streams them, from the state this call left it in.</summary>
    private static ServerSentEventsResult<string> Streamed(RunView view, RunStore runs, JobEvents events, HttpContext http, CancellationToken cancellationToken) =>
        TypedResults.ServerSentEvents(new RunStream(view, runs, events, http, http.RequestServices.GetRequiredService<ILogger<RunStream>>(),
            http.RequestServices.GetRequiredService<TimeProvider>()).ReadAsync(cancellationToken));

    /// <summary>While a run is active, <c>openai-poll-after-ms</c> tells the SDKs' poll helpers when to look again.</summary>
    private static Ok<RunObject> Polled(HttpContext http, RunView run)
    {
        if (RunStatus.IsActive(run.Status))
        {
            http.Response.Headers["openai-poll-after-ms"] = PollAfterMilliseconds;
        }
        return TypedResults.Ok(run.View());
    }

    private const string PollAfterMilliseconds = "200";

    internal static async Task<Results<Ok<RunObject>, ServerSentEventsResult<string>, ValidationProblem, ProblemHttpResult>> SubmitToolOutputsAsync(
        string thread_id, string run_id, ToolOutputsSubmit body, HttpContext http, ClaimsPrincipal principal, RunStore runs, JobEvents events,
        IOptions<AssistantOptions> options, CancellationToken cancellationToken)
    {
        var caller = principal.AiCaller();
        var userId = caller.UserId;
        if (!OpenAIIds.TryParse(OpenAIIds.Thread, thread_id, out var threadId) || !OpenAIIds.TryParse(OpenAIIds.Run, run_id, out var runId)
            || await runs.FindRunAsync(userId, threadId, runId, cancellationToken) is not { } run)
        {
            return ApiProblem.Of(ErrorCode.NotFound);
        }
        var errors = new Dictionary<string, string[]>();
        var outputs = new List<(string, string)>();
        foreach (var (output, index) in (body.ToolOutputs ?? []).Select((o, i) => (o, i)))
        {
            if (string.IsNullOrEmpty(output.ToolCallId))
            {
                errors[$"tool_outputs[{index}].tool_call_id"] = ["The id of the tool call is required."];
            }
            ThreadInput.CheckText(output.Output is null ? null : output.Output.Length == 0 ? " " : output.Output, options.Value, $"tool_outputs[{index}].output", errors);
            outputs.Add((output.ToolCallId ?? "", output.Output ?? ""));
        }
        if (body.ToolOutputs is not { Count: > 0 })
        {
            errors["tool_outputs"] = ["At least one tool output is required."];
        }
        if (errors.Count > 0)
        {
            return ApiProblem.Validation(errors);
        }
        var (view, refusal) = await runs.SubmitToolOutputsAsync(caller, run, outputs, cancellationToken);
        if (refusal is not null)
        {
            return refusal;
        }
        return body.Stream == true
            ? Streamed(view!, runs, events, http, cancellationToken)
            : Polled(http, view!);
    }

    internal static async Task<Results<Ok<RunObject>, ProblemHttpResult>> CancelRunAsync(
        string thread_id, string run_id, ClaimsPrincipal principal, RunStore runs, CancellationToken cancellationToken)
    {
        var userId = principal.AiCaller().UserId;
        if (!OpenAIIds.TryParse(OpenAIIds.Thread, thread_id, out var threadId) || !OpenAIIds.TryParse(OpenAIIds.Run, run_id, out var runId)
            || await runs.FindRunAsync(userId, threadId, runId, cancellationToken) is not { } run)
        {
            return ApiProblem.Of(ErrorCode.NotFound);
        }
        if (!RunStatus.IsActive(run.Status))
        {
            return ApiProblem.Of(ErrorCode.NotCancellable);
        }
        if (run.Status == RunStatus.RequiresAction)
        {
            // Not yet: a run waiting for tool outputs frees its thread when it expires (or when outputs come).
            return ApiProblem.Of(ErrorCode.NotCancellable, detail: "A run that requires action cannot be cancelled yet; submit its tool outputs or let it expire.");
        }
        await runs.CancelAsync(run, cancellationToken);
        return TypedResults.Ok((await runs.FindRunAsync(userId, threadId, runId, cancellationToken))!.View());
    }
}
