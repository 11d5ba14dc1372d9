using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Security.Claims;
using System.Text.Json;
using AiPrompts.Api.Jobs;
using AiPrompts.Core.Caching;
using AiPrompts.Core.Jobs;
using AiPrompts.Core.PromptRequests;

namespace AiPrompts.Api.PromptRequests;

/// <summary>
/// The events of one request as server-sent events: <c>status</c> ({status, attempt}), <c>delta</c>
/// ({attempt, offset, text}: text streamed by that attempt from that offset; a new attempt starts again
/// at 0), <c>result</c> (the request's detail, last), and <c>ping</c> while nothing happens. Redis carries
/// the events; the database is read at the start, when text was missed, and on a slow poll.
/// </summary>
internal sealed class PromptRequestEventStream(Guid id, ClaimsPrincipal principal, PromptRequestReader reader, JobEvents events, string language, TimeProvider time)
    : JobEventStream(events, time)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private Guid _jobId;
    private string _status = PromptRequestStatus.Pending;
    private int _attempt;
    private int _sent;

    protected override (TimeSpan Live, TimeSpan WithoutRedis) PollEvery => (TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(1));

    protected override bool Pings => true;

    /// <summary>The request's job is its for life.</summary>
    protected override async Task<Guid?> ChannelAsync(CancellationToken cancellationToken) =>
        (await reader.FindAsync(principal, id, cancellationToken))?.Job.Id is { } jobId ? _jobId = jobId : null;

    protected override async IAsyncEnumerable<SseItem<string>> OpenAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var row = await reader.FindAsync(principal, id, cancellationToken);
        if (row is null)
        {
            Ended = true;
            yield break;
        }
        (_status, _attempt) = (row.Status, row.Job.Attempt);
        yield return Status();
        if (PromptRequestStatus.IsFinal(_status))
        {
            yield return await ResultAsync(cancellationToken);
            Ended = true;
            yield break;
        }
        if (_status == PromptRequestStatus.Generating && await PartialAsync(_attempt, cancellationToken) is { Length: > 0 } partial)
        {
            yield return Delta(0, partial);
            _sent = partial.Length;
        }
    }

    protected override async IAsyncEnumerable<SseItem<string>> OnEventAsync(JobEvent next, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        if (next is { Type: JobEvent.StatusType, Status: { } jobStatus })
        {
            var status = PromptRequestStatus.FromJob(jobStatus);
            if (next.Attempt > _attempt)
            {
                (_attempt, _sent) = (next.Attempt, 0);
            }
            if (status != _status || next.Attempt == _attempt)
            {
                _status = status;
                yield return Status();
            }
            if (PromptRequestStatus.IsFinal(_status))
            {
                yield return await ResultAsync(cancellationToken);
                Ended = true;
            }
            yield break;
        }
        if (next is { Type: JobEvent.DeltaType, Offset: { } offset, Text: { } text } && next.Attempt >= _attempt)
        {
            if (next.Attempt > _attempt)
            {
                (_attempt, _sent) = (next.Attempt, 0);
            }
            if (offset > _sent)
            {
                // Text was missed (a message lost while Redis reconnected): catch up from the stored partial.
                text = await PartialAsync(_attempt, cancellationToken) ?? "";
                offset = 0;
            }
            if (_status == PromptRequestStatus.Pending)
            {
                // Text means the attempt runs, even when its status message was missed (it came before the subscription did).
                _status = PromptRequestStatus.Generating;
                yield return Status();
            }
            if (offset + text.Length > _sent)
            {
                yield return Delta(_sent, text[(_sent - offset)..]);
                _sent = offset + text.Length;
            }
        }
    }

    protected override async IAsyncEnumerable<SseItem<string>> OnPollAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var row = await reader.FindAsync(principal, id, cancellationToken);
        if (row is null)
        {
            Ended = true;
            yield break;
        }
        if (row.Status != _status || row.Job.Attempt != _attempt)
        {
            (_status, _attempt) = (row.Status, row.Job.Attempt);
            yield return Status();
        }
        if (PromptRequestStatus.IsFinal(_status))
        {
            yield return await ResultAsync(cancellationToken);
            Ended = true;
        }
    }

    private async Task<string?> PartialAsync(int attempt, CancellationToken cancellationToken)
    {
        try
        {
            return await Events.ReadPartialAsync(_jobId, attempt, cancellationToken);
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

    private SseItem<string> Status() => new(JsonSerializer.Serialize(new { status = _status, attempt = _attempt }, Json), "status");

    private SseItem<string> Delta(int offset, string text) => new(JsonSerializer.Serialize(new { attempt = _attempt, offset, text }, Json), "delta");
}
