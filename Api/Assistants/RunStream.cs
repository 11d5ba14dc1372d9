using System.Diagnostics;
using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Text.Json;
using AiPrompts.Api.Errors;
using AiPrompts.Api.Jobs;
using AiPrompts.Core.Assistants;
using AiPrompts.Core.Errors;
using AiPrompts.Core.Jobs;

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
internal sealed partial class RunStream(RunView created, RunStore runs, JobEvents events, HttpContext http, ILogger<RunStream> logger, TimeProvider time)
    : JobEventStream(events, time)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private string MessageId => OpenAIIds.Of(OpenAIIds.Message, created.Run.Id);
    private RunView? _current;

    private RunView Current => _current ?? created;
    private bool _inProgress;
    private bool _messageStarted;
    private int _attempt = 1;
    private int _sent;

    protected override (TimeSpan Live, TimeSpan WithoutRedis) PollEvery => (TimeSpan.FromSeconds(1), TimeSpan.FromMilliseconds(250));

    /// <summary>The run's current job (submit_tool_outputs gives a run a new job, and a new stream).</summary>
    protected override Task<Guid?> ChannelAsync(CancellationToken cancellationToken) => Task.FromResult<Guid?>(created.Job.Id);

    protected override async IAsyncEnumerable<SseItem<string>> OpenAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
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
        await Task.CompletedTask;
    }

    protected override async IAsyncEnumerable<SseItem<string>> OnEventAsync(JobEvent next, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        if (next is not { Type: JobEvent.DeltaType, Offset: { } offset, Text: { } text })
        {
            // A status change: see where the run stands now.
            await foreach (var item in OnPollAsync(cancellationToken))
            {
                yield return item;
            }
            yield break;
        }
        if (next.Attempt < _attempt)
        {
            yield break;
        }
        if (next.Attempt > _attempt)
        {
            // A retry streams its answer from the start; what this stream already sent stays sent.
            _attempt = next.Attempt;
        }
        if (offset > _sent)
        {
            text = await Events.ReadPartialAsync(created.Job.Id, _attempt, cancellationToken) ?? "";
            offset = 0;
        }
        if (!_inProgress)
        {
            _inProgress = true;
            yield return Event("thread.run.in_progress", Current.View(RunStatus.InProgress));
        }
        foreach (var started in StartMessage())
        {
            yield return started;
        }
        if (offset + text.Length > _sent)
        {
            yield return Delta(text[(_sent - offset)..]);
            _sent = offset + text.Length;
        }
    }

    protected override async IAsyncEnumerable<SseItem<string>> OnPollAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var runId = created.Run.Id;
        if (await runs.FindRunAsync(created.Run.UserId, created.Run.ThreadId, runId, cancellationToken) is not { } found)
        {
            // Its thread was deleted meanwhile.
            Ended = true;
            yield return Error(ErrorCode.NotFound, $"Run {OpenAIIds.Of(OpenAIIds.Run, runId)} no longer exists: its thread was deleted.");
            yield break;
        }
        _current = found;
        var status = Current.Status;
        if (!_inProgress && status != RunStatus.Queued)
        {
            _inProgress = true;
            yield return Event("thread.run.in_progress", Current.View(RunStatus.InProgress));
        }
        if (status == RunStatus.RequiresAction)
        {
            // The caller's tools are wanted: the stream ends here; submit_tool_outputs (stream: true) goes on.
            Ended = true;
            var calls = RunSteps.Of(Current, null)[^1];
            yield return Event("thread.run.step.created", calls);
            yield return Event("thread.run.step.in_progress", calls);
            yield return Event("thread.run.requires_action", Current.View());
            yield return new SseItem<string>("[DONE]", "done");
            yield break;
        }
        if (RunStatus.IsActive(status))
        {
            yield break;
        }
        Ended = true;
        if (status is RunStatus.Completed or RunStatus.Incomplete)
        {
            var answer = await runs.AnswerOfAsync(runId, cancellationToken);
            var full = answer?.Text ?? "";
            foreach (var started in StartMessage())
            {
                yield return started;
            }
            if (full.Length > _sent)
            {
                yield return Delta(full[_sent..]);
            }
            yield return Event("thread.message.completed", answer is null ? Message(Current, "completed", full) : ThreadViews.View(answer));
            yield return Event("thread.run.step.completed", RunSteps.Message(Current, "completed", StepStart(Current)));
        }
        else if (_messageStarted && status is RunStatus.Failed or RunStatus.Cancelled)
        {
            yield return Event($"thread.run.step.{status}", RunSteps.Message(Current, status, StepStart(Current)));
        }
        yield return Event($"thread.run.{status}", Current.View());
        yield return new SseItem<string>("[DONE]", "done");
    }

    /// <summary>When the stream itself cannot go on: the SDKs' error event, in the caller's language (an outage says so).</summary>
    protected override SseItem<string>? Failed(Exception exception)
    {
        LogStopped(logger, exception, created.Run.Id);
        return Error(Core.Data.DatabaseOutage.Find(exception) is null ? ErrorCode.InternalError : ErrorCode.ServiceUnavailable, null);
    }

    /// <summary>The answer begins (once): its message_creation step, then the message.</summary>
    private IEnumerable<SseItem<string>> StartMessage()
    {
        if (_messageStarted)
        {
            yield break;
        }
        _messageStarted = true;
        var step = RunSteps.Message(Current, "in_progress", StepStart(Current));
        yield return Event("thread.run.step.created", step);
        yield return Event("thread.run.step.in_progress", step);
        var message = Message(Current, "in_progress", "");
        yield return Event("thread.message.created", message);
        yield return Event("thread.message.in_progress", message);
    }

    [LoggerMessage(EventId = 2301, Level = LogLevel.Error, Message = "The events of run {RunId} stopped")]
    private static partial void LogStopped(ILogger logger, Exception exception, Guid runId);

    private static long StepStart(RunView run) => (run.Job.StartedAt ?? run.Run.CreatedAt).ToUnixTimeSeconds();

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

    private SseItem<string> Delta(string text) => Event("thread.message.delta", new
    {
        id = MessageId,
        @object = "thread.message.delta",
        delta = new { content = new[] { new { index = 0, type = "text", text = new { value = text } } } },
    });

    private static SseItem<string> Event<T>(string name, T data) => new(JsonSerializer.Serialize(data, Json), name);
}
