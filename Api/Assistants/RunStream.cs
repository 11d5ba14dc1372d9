using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Threading.Channels;
using AiPrompts.Api.PromptRequests;
using AiPrompts.Core.Assistants;
using AiPrompts.Core.PromptRequests;

namespace AiPrompts.Api.Assistants;

/// <summary>
/// A run as OpenAI streams it (<c>stream: true</c>): <c>thread.run.created</c>, <c>thread.run.queued</c>,
/// <c>thread.run.in_progress</c>, <c>thread.message.created</c>, <c>thread.message.delta</c> as the Worker's
/// text arrives (through Redis, caught up from the stored partial when a piece was missed),
/// <c>thread.message.completed</c>, then <c>thread.run.completed</c> / <c>incomplete</c> / <c>failed</c> /
/// <c>cancelled</c>, and <c>done</c> with <c>[DONE]</c>. The database says when the run has ended.
/// </summary>
internal sealed class RunStream(RunView created, ThreadStore store, PromptRequestEvents events)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly Channel<PromptRequestEvent> _queue = Channel.CreateUnbounded<PromptRequestEvent>(new UnboundedChannelOptions { SingleReader = true });

    public async IAsyncEnumerable<SseItem<string>> ReadAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var runId = created.Run.Id;
        await using var subscription = await QuickSubscription.StartAsync(events, runId, e =>
        {
            _queue.Writer.TryWrite(e);
            return ValueTask.CompletedTask;
        });
        yield return Event("thread.run.created", created.View());
        yield return Event("thread.run.queued", created.View());

        var messageId = OpenAIIds.Of(OpenAIIds.Message, runId);
        var inProgress = false;
        var messageStarted = false;
        var attempt = 1;
        var sent = 0;
        var run = created;
        while (true)
        {
            var next = await ReadOrTimeoutAsync(subscription.IsLive ? TimeSpan.FromSeconds(1) : TimeSpan.FromMilliseconds(250), cancellationToken);
            if (next is { Type: PromptRequestEvent.DeltaType, Offset: { } offset, Text: { } text } && next.Attempt >= attempt)
            {
                if (next.Attempt > attempt)
                {
                    // A retry streams its answer from the start; what this stream already sent stays sent.
                    attempt = next.Attempt;
                }
                if (offset > sent)
                {
                    text = await events.ReadPartialAsync(runId, attempt, cancellationToken) ?? "";
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
                    yield return Event("thread.message.created", Message(run, "in_progress", ""));
                }
                if (offset + text.Length > sent)
                {
                    yield return Delta(messageId, text[(sent - offset)..]);
                    sent = offset + text.Length;
                }
                continue;
            }

            run = await store.FindRunAsync(created.Run.UserId, created.Run.ThreadId, runId, cancellationToken) ?? run;
            var status = run.Status;
            if (!inProgress && status != RunStatus.Queued)
            {
                inProgress = true;
                yield return Event("thread.run.in_progress", run.View(RunStatus.InProgress));
            }
            if (status == RunStatus.RequiresAction)
            {
                // The caller's tools are wanted: the stream ends here; submit_tool_outputs (stream: true) goes on.
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
                var answer = await store.AnswerOfAsync(runId, cancellationToken);
                var full = answer?.Text ?? "";
                if (!messageStarted)
                {
                    yield return Event("thread.message.created", Message(run, "in_progress", ""));
                }
                if (full.Length > sent)
                {
                    yield return Delta(messageId, full[sent..]);
                }
                yield return Event("thread.message.completed", answer is null ? Message(run, "completed", full) : ThreadStore.View(answer));
            }
            yield return Event($"thread.run.{status}", run.View());
            yield return new SseItem<string>("[DONE]", "done");
            yield break;
        }
    }

    private async Task<PromptRequestEvent?> ReadOrTimeoutAsync(TimeSpan wait, CancellationToken cancellationToken)
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
