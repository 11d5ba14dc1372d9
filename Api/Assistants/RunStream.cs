using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Threading.Channels;
using System.Diagnostics;
using AiPrompts.Api.Errors;
using AiPrompts.Api.Jobs;
using AiPrompts.Core.Jobs;
using AiPrompts.Core.Assistants;
using AiPrompts.Core.Errors;
using AiPrompts.Core.PromptRequests;

namespace AiPrompts.Api.Assistants;

/// <summary>
/// A run as OpenAI streams it (<c>stream: true</c>): <c>thread.run.created</c>, <c>thread.run.queued</c>,
/// <c>thread.run.in_progress</c>, <c>thread.run.step.created</c> and <c>in_progress</c>,
/// <c>thread.message.created</c> and <c>in_progress</c>, <c>thread.message.delta</c> as the Worker's text
/// arrives (through Redis, caught up from the stored partial when a piece was missed),
/// <c>thread.message.completed</c>, <c>thread.run.step.completed</c>, then <c>thread.run.completed</c> /
/// <c>incomplete</c> / <c>failed</c> / <c>cancelled</c> / <c>requires_action</c>, and <c>done</c> with
/// <c>[DONE]</c>. The database says when the run has ended. When the stream itself cannot go on (the run was
/// deleted, the database failed) it ends with <c>error</c>, in the error shape the SDKs read.
/// </summary>
internal sealed partial class RunStream(RunView created, RunStore runs, JobEvents events, HttpContext http, ILogger<RunStream> logger)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly Channel<JobEvent> _queue = Channel.CreateUnbounded<JobEvent>(new UnboundedChannelOptions { SingleReader = true });

    /// <summary>The events; an exception while producing them becomes the stream's <c>error</c> event.</summary>
    public async IAsyncEnumerable<SseItem<string>> ReadAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await using var source = EventsAsync(cancellationToken).GetAsyncEnumerator(cancellationToken);
        while (true)
        {
            SseItem<string> item;
            try
            {
                if (!await source.MoveNextAsync())
                {
                    yield break;
                }
                item = source.Current;
            }
            catch (Exception exception) when (!cancellationToken.IsCancellationRequested)
            {
                LogStopped(logger, exception, created.Run.Id);
                item = Error(ErrorCode.InternalError, null);
            }
            yield return item;
            if (item.EventType == "error")
            {
                yield break;
            }
        }
    }

    private async IAsyncEnumerable<SseItem<string>> EventsAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var runId = created.Run.Id;
        // The job this stream follows: the run's current one (submit_tool_outputs gives a run a new job, and a new stream).
        var jobId = created.Job.Id;
        await using var subscription = await QuickSubscription.StartAsync(events, jobId, e =>
        {
            _queue.Writer.TryWrite(e);
            return ValueTask.CompletedTask;
        });
        yield return Event("thread.run.created", created.View());
        yield return Event("thread.run.queued", created.View());
        var rounds = ToolRounds.Read(created.Run.ToolRounds);
        if (rounds is [.., var answered])
        {
            // Going on after submit_tool_outputs: the round of calls just answered is a completed step.
            var at = created.Run.CreatedAt.ToUnixTimeSeconds(); // rounds written before their times were kept
            yield return Event("thread.run.step.completed", RunSteps.ToolCalls(created, rounds.Count - 1, "completed", answered.Calls,
                answered.CreatedAt ?? at, answered.CompletedAt ?? at));
        }

        var messageId = OpenAIIds.Of(OpenAIIds.Message, runId);
        var inProgress = false;
        var messageStarted = false;
        var attempt = 1;
        var sent = 0;
        var run = created;
        while (true)
        {
            var next = await ReadOrTimeoutAsync(subscription.IsLive ? TimeSpan.FromSeconds(1) : TimeSpan.FromMilliseconds(250), cancellationToken);
            if (next is { Type: JobEvent.DeltaType, Offset: { } offset, Text: { } text } && next.Attempt >= attempt)
            {
                if (next.Attempt > attempt)
                {
                    // A retry streams its answer from the start; what this stream already sent stays sent.
                    attempt = next.Attempt;
                }
                if (offset > sent)
                {
                    text = await events.ReadPartialAsync(jobId, attempt, cancellationToken) ?? "";
                    offset = 0;
                }
                if (!inProgress)
                {
                    inProgress = true;
                    yield return Event("thread.run.in_progress", run.View(RunStatus.InProgress));
                }
                if (!messageStarted)
                {
                    messageStarted = true;
                    foreach (var started in MessageStarted(run))
                    {
                        yield return started;
                    }
                }
                if (offset + text.Length > sent)
                {
                    yield return Delta(messageId, text[(sent - offset)..]);
                    sent = offset + text.Length;
                }
                continue;
            }

            if (await runs.FindRunAsync(created.Run.UserId, created.Run.ThreadId, runId, cancellationToken) is not { } found)
            {
                // Its thread was deleted meanwhile.
                yield return Error(ErrorCode.NotFound, $"Run {OpenAIIds.Of(OpenAIIds.Run, runId)} no longer exists: its thread was deleted.");
                yield break;
            }
            run = found;
            var status = run.Status;
            if (!inProgress && status != RunStatus.Queued)
            {
                inProgress = true;
                yield return Event("thread.run.in_progress", run.View(RunStatus.InProgress));
            }
            if (status == RunStatus.RequiresAction)
            {
                // The caller's tools are wanted: the stream ends here; submit_tool_outputs (stream: true) goes on.
                var calls = RunSteps.Of(run, null)[^1];
                yield return Event("thread.run.step.created", calls);
                yield return Event("thread.run.step.in_progress", calls);
                yield return Event("thread.run.requires_action", run.View());
                yield return new SseItem<string>("[DONE]", "done");
                yield break;
            }
            if (RunStatus.IsActive(status))
            {
                continue;
            }
            if (status is RunStatus.Completed or RunStatus.Incomplete)
            {
                var answer = await runs.AnswerOfAsync(runId, cancellationToken);
                var full = answer?.Text ?? "";
                if (!messageStarted)
                {
                    messageStarted = true;
                    foreach (var started in MessageStarted(run))
                    {
                        yield return started;
                    }
                }
                if (full.Length > sent)
                {
                    yield return Delta(messageId, full[sent..]);
                }
                yield return Event("thread.message.completed", answer is null ? Message(run, "completed", full) : ThreadViews.View(answer));
                yield return Event("thread.run.step.completed", RunSteps.Message(run, "completed", StepStart(run)));
            }
            else if (messageStarted && status is RunStatus.Failed or RunStatus.Cancelled)
            {
                yield return Event($"thread.run.step.{status}", RunSteps.Message(run, status, StepStart(run)));
            }
            yield return Event($"thread.run.{status}", run.View());
            yield return new SseItem<string>("[DONE]", "done");
            yield break;
        }
    }

    private async Task<JobEvent?> ReadOrTimeoutAsync(TimeSpan wait, CancellationToken cancellationToken)
    {
        if (_queue.Reader.TryRead(out var ready))
        {
            return ready;
        }
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(wait);
        try
        {
            return await _queue.Reader.ReadAsync(timeout.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return null;
        }
    }

    [LoggerMessage(EventId = 2301, Level = LogLevel.Error, Message = "The events of run {RunId} stopped")]
    private static partial void LogStopped(ILogger logger, Exception exception, Guid runId);

    private static long StepStart(RunView run) => (run.Job.StartedAt ?? run.Run.CreatedAt).ToUnixTimeSeconds();

    /// <summary>The answer begins: its message_creation step, then the message.</summary>
    private static IEnumerable<SseItem<string>> MessageStarted(RunView run)
    {
        var step = RunSteps.Message(run, "in_progress", StepStart(run));
        yield return Event("thread.run.step.created", step);
        yield return Event("thread.run.step.in_progress", step);
        var message = Message(run, "in_progress", "");
        yield return Event("thread.message.created", message);
        yield return Event("thread.message.in_progress", message);
    }

    /// <summary>The stream's <c>error</c> event: the error object the SDKs read, in the caller's language.</summary>
    private SseItem<string> Error(ErrorCode code, string? detail)
    {
        var catalog = http.RequestServices.GetRequiredService<MessageCatalog>();
        var text = catalog.Get(code.Code, catalog.ChooseLanguage(ProblemDetailsEnricher.PreferredLanguages(http.Request)));
        return Event("error", new OpenAIErrorBody(new OpenAIError(detail ?? text.Message, code.Status >= 500 ? "server_error" : "invalid_request_error", null, code.Code,
            text.UserMessage, text.RecoveryAction, null, Activity.Current?.TraceId.ToString() ?? http.TraceIdentifier)));
    }

    private static MessageObject Message(RunView run, string status, string text) => new(
        OpenAIIds.Of(OpenAIIds.Message, run.Run.Id), "thread.message", run.Run.CreatedAt.ToUnixTimeSeconds(), OpenAIIds.Of(OpenAIIds.Thread, run.Run.ThreadId),
        "assistant", text.Length == 0 ? [] : [new MessageContent("text", new MessageText(text, []))],
        OpenAIIds.Of(OpenAIIds.Assistant, run.Run.AssistantId), OpenAIIds.Of(OpenAIIds.Run, run.Run.Id), [], [], status, null);

    private static SseItem<string> Delta(string messageId, string text) => Event("thread.message.delta", new
    {
        id = messageId,
        @object = "thread.message.delta",
        delta = new { content = new[] { new { index = 0, type = "text", text = new { value = text } } } },
    });

    private static SseItem<string> Event<T>(string name, T data) => new(JsonSerializer.Serialize(data, Json), name);
}
