using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using AiPrompts.Core.Jobs;

namespace AiPrompts.Api.Jobs;

/// <summary>
/// The Api's one server-sent-events loop, for every surface that streams a job (or a topic several jobs work on): it
/// subscribes to the channel before the surface reads where things stand, then hands the surface each event as Redis
/// delivers it and a regular look at the database (often while Redis delivers, more often while it cannot), sends a ping
/// after a quiet spell when the surface has one, and ends when the surface says it has ended, the client leaves, or
/// something fails (the surface's own error event, when it has one, is the last thing sent). A surface says only what it
/// sends: first, on an event, and on a look.
/// </summary>
internal abstract class JobEventStream(JobEvents events, TimeProvider time)
{
    private static readonly TimeSpan PingAfter = TimeSpan.FromSeconds(15);

    private readonly Channel<JobEvent> _queue = Channel.CreateUnbounded<JobEvent>(new UnboundedChannelOptions { SingleReader = true });

    /// <summary>The channels, for a surface that reads what a job streamed so far (<see cref="JobEvents.ReadPartialAsync"/>).</summary>
    protected JobEvents Events { get; } = events;

    /// <summary>How often the database is read while Redis delivers the channel's events, and while it cannot.</summary>
    protected abstract (TimeSpan Live, TimeSpan WithoutRedis) PollEvery { get; }

    /// <summary>Whether the stream pings while nothing happens (the surface's own event name), or stays silent.</summary>
    protected virtual bool Pings => false;

    /// <summary>The surface has sent its last event.</summary>
    protected bool Ended { get; set; }

    /// <summary>The job (or, with <see cref="IsTopic"/>, the topic) whose channel to follow; null ends the stream at once.</summary>
    protected abstract Task<Guid?> ChannelAsync(CancellationToken cancellationToken);

    protected virtual bool IsTopic => false;

    /// <summary>What is sent first, once the subscription is in place (where things stand now).</summary>
    protected abstract IAsyncEnumerable<SseItem<string>> OpenAsync(CancellationToken cancellationToken);

    /// <summary>What an event of the channel adds.</summary>
    protected abstract IAsyncEnumerable<SseItem<string>> OnEventAsync(JobEvent next, CancellationToken cancellationToken);

    /// <summary>What a look at the database adds (it runs after a quiet <see cref="PollEvery"/>, whatever Redis does).</summary>
    protected abstract IAsyncEnumerable<SseItem<string>> OnPollAsync(CancellationToken cancellationToken);

    /// <summary>The last event to send when the stream fails, or null to let the failure end the response.</summary>
    protected virtual SseItem<string>? Failed(Exception exception) => null;

    /// <summary>The stream; a failure while producing it becomes <see cref="Failed"/>'s event, when the surface has one.</summary>
    public async IAsyncEnumerable<SseItem<string>> ReadAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await using var source = LoopAsync(cancellationToken).GetAsyncEnumerator(cancellationToken);
        while (true)
        {
            SseItem<string>? failed = null;
            try
            {
                if (!await source.MoveNextAsync())
                {
                    yield break;
                }
            }
            catch (Exception exception) when (!cancellationToken.IsCancellationRequested && Failed(exception) is { } last)
            {
                failed = last;
            }
            if (failed is { } end)
            {
                yield return end;
                yield break;
            }
            yield return source.Current;
        }
    }

    private async IAsyncEnumerable<SseItem<string>> LoopAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        if (await ChannelAsync(cancellationToken) is not { } channel)
        {
            yield break;
        }
        await using var subscription = await QuickSubscription.StartAsync(Events, channel, e =>
        {
            _queue.Writer.TryWrite(e);
            return ValueTask.CompletedTask;
        }, IsTopic);

        var quietSince = time.GetTimestamp();
        await foreach (var item in OpenAsync(cancellationToken))
        {
            yield return item;
        }
        var lastPoll = time.GetTimestamp();
        while (!Ended)
        {
            var poll = subscription.IsLive ? PollEvery.Live : PollEvery.WithoutRedis;
            var wait = poll - time.GetElapsedTime(lastPoll);
            var next = await ReadOrTimeoutAsync(wait > TimeSpan.Zero ? wait : TimeSpan.Zero, cancellationToken);
            var sent = false;
            if (next is not null)
            {
                await foreach (var item in OnEventAsync(next, cancellationToken))
                {
                    sent = true;
                    yield return item;
                }
            }
            if (!Ended && time.GetElapsedTime(lastPoll) >= poll)
            {
                lastPoll = time.GetTimestamp();
                await foreach (var item in OnPollAsync(cancellationToken))
                {
                    sent = true;
                    yield return item;
                }
            }
            if (sent)
            {
                quietSince = time.GetTimestamp();
            }
            else if (Pings && !Ended && time.GetElapsedTime(quietSince) >= PingAfter)
            {
                quietSince = time.GetTimestamp();
                yield return new SseItem<string>("{}", "ping");
            }
        }
    }

    private async Task<JobEvent?> ReadOrTimeoutAsync(TimeSpan wait, CancellationToken cancellationToken)
    {
        if (_queue.Reader.TryRead(out var ready))
        {
            return ready;
        }
        if (wait <= TimeSpan.Zero)
        {
            return null;
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
}
