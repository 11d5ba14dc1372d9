using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Security.Claims;
using System.Text.Json;
using System.Threading.Channels;
using AiPrompts.Api.Jobs;
using AiPrompts.Core.Caching;
using AiPrompts.Core.Data;
using AiPrompts.Core.Jobs;
using AiPrompts.Core.PromptRequests;
using Microsoft.EntityFrameworkCore;

namespace AiPrompts.Api.PromptRequests;

/// <summary>
/// The events of one request as server-sent events: <c>status</c> ({status, attempt}), <c>delta</c>
/// ({attempt, offset, text}: text streamed by that attempt from that offset; a new attempt starts again
/// at 0), <c>result</c> (the request's detail, last), and <c>ping</c> while nothing happens. Redis carries
/// the events; the database is read at the start, when text was missed, and on a slow poll.
/// </summary>
internal sealed class EventStream(Guid id, ClaimsPrincipal principal, PromptRequestReader reader, JobEvents events, string language, TimeProvider time)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private static readonly TimeSpan PingEvery = TimeSpan.FromSeconds(15);

    private readonly Channel<JobEvent> _queue = Channel.CreateUnbounded<JobEvent>(new UnboundedChannelOptions { SingleReader = true });
    private Guid _jobId;

    public async IAsyncEnumerable<SseItem<string>> ReadAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        // The request's job is its for life: subscribe to its channel, then read where it stands, so nothing is missed.
        if (await reader.FindAsync(principal, id, cancellationToken) is not { } first)
        {
            yield break;
        }
        _jobId = first.Job.Id;
        await using var subscription = await QuickSubscription.StartAsync(events, _jobId, e =>
        {
            _queue.Writer.TryWrite(e);
            return ValueTask.CompletedTask;
        });
        var row = await reader.FindAsync(principal, id, cancellationToken);
        if (row is null)
        {
            yield break;
        }
        var status = row.Status;
        var attempt = row.Job.Attempt;
        var sent = 0;
        yield return Status(status, attempt);
        if (PromptRequestStatus.IsFinal(status))
        {
            yield return await ResultAsync(cancellationToken);
            yield break;
        }
        if (status == PromptRequestStatus.Generating && await PartialAsync(attempt, cancellationToken) is { Length: > 0 } partial)
        {
            yield return Delta(attempt, 0, partial);
            sent = partial.Length;
        }

        var quietSince = time.GetTimestamp();
        var lastPoll = time.GetTimestamp();
        while (true)
        {
            var poll = subscription.IsLive ? TimeSpan.FromSeconds(5) : TimeSpan.FromSeconds(1);
            var next = await ReadOrTimeoutAsync(poll, cancellationToken);
            if (next is { Type: JobEvent.StatusType, Status: { } jobStatus })
            {
                var newStatus = PromptRequestStatus.FromJob(jobStatus);
                if (next.Attempt > attempt)
                {
                    (attempt, sent) = (next.Attempt, 0);
                }
                if (newStatus != status || next.Attempt == attempt)
                {
                    status = newStatus;
                    yield return Status(status, attempt);
                    quietSince = time.GetTimestamp();
                }
                if (PromptRequestStatus.IsFinal(status))
                {
                    yield return await ResultAsync(cancellationToken);
                    yield break;
                }
                continue;
            }
            if (next is { Type: JobEvent.DeltaType, Offset: { } offset, Text: { } text } && next.Attempt >= attempt)
            {
                if (next.Attempt > attempt)
                {
                    (attempt, sent) = (next.Attempt, 0);
                }
                if (offset > sent)
                {
                    // Text was missed (a message lost while Redis reconnected): catch up from the stored partial.
                    text = await PartialAsync(attempt, cancellationToken) ?? "";
                    offset = 0;
                }
                if (status == PromptRequestStatus.Pending)
                {
                    // Text means the attempt runs, even when its status message was missed (it came before
                    // the subscription did).
                    status = PromptRequestStatus.Generating;
                    yield return Status(status, attempt);
                }
                if (offset + text.Length > sent)
                {
                    yield return Delta(attempt, sent, text[(sent - offset)..]);
                    sent = offset + text.Length;
                    quietSince = time.GetTimestamp();
                }
                continue;
            }
            if (time.GetElapsedTime(lastPoll) >= poll)
            {
                lastPoll = time.GetTimestamp();
                row = await reader.FindAsync(principal, id, cancellationToken);
                if (row is null)
                {
                    yield break;
                }
                if (row.Status != status || row.Job.Attempt != attempt)
                {
                    (status, attempt) = (row.Status, row.Job.Attempt);
                    yield return Status(status, attempt);
                    quietSince = time.GetTimestamp();
                }
                if (PromptRequestStatus.IsFinal(status))
                {
                    yield return await ResultAsync(cancellationToken);
                    yield break;
                }
            }
            if (time.GetElapsedTime(quietSince) >= PingEvery)
            {
                yield return new SseItem<string>("{}", "ping");
                quietSince = time.GetTimestamp();
            }
        }
    }

    private async Task<JobEvent?> ReadOrTimeoutAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var timer = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timer.CancelAfter(timeout);
        try
        {
            return await _queue.Reader.ReadAsync(timer.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return null;
        }
    }

    private async Task<string?> PartialAsync(int attempt, CancellationToken cancellationToken)
    {
        try
        {
            return await events.ReadPartialAsync(_jobId, attempt, cancellationToken);
        }
        catch (Exception ex) when (ex.IsRedisFailure())
        {
            return null;
        }
    }

    private async Task<SseItem<string>> ResultAsync(CancellationToken cancellationToken)
    {
        var row = await reader.FindAsync(principal, id, cancellationToken);
        var detail = await reader.DetailAsync(row!, language, cancellationToken);
        return new SseItem<string>(JsonSerializer.Serialize(detail, Json), "result");
    }

    private static SseItem<string> Status(string status, int attempt) =>
        new(JsonSerializer.Serialize(new { status, attempt }, Json), "status");

    private static SseItem<string> Delta(int attempt, int offset, string text) =>
        new(JsonSerializer.Serialize(new { attempt, offset, text }, Json), "delta");
}
