using System.Text;
using AiPrompts.Core.Caching;

namespace AiPrompts.Core.Jobs;

/// <summary>
/// A handler's streamed text on its job's channel (<see cref="JobEvents"/>), whatever the job is for: published at most
/// every <c>interval</c>, each piece at its offset in the attempt's text; once Redis fails, it stops trying for this attempt.
/// </summary>
public sealed class JobTextPublisher(JobEvents events, JobContext context, TimeSpan interval, TimeProvider time)
{
    private readonly StringBuilder _pending = new();
    private int _offset;
    private long _lastFlush = time.GetTimestamp();
    private bool _broken;

    public async Task AddAsync(string piece, CancellationToken cancellationToken)
    {
        _pending.Append(piece);
        if (time.GetElapsedTime(_lastFlush) >= interval)
        {
            await FlushAsync(cancellationToken);
        }
    }

    public async Task FlushAsync(CancellationToken cancellationToken)
    {
        if (_pending.Length == 0 || _broken)
        {
            return;
        }
        var text = _pending.ToString();
        _pending.Clear();
        try
        {
            await events.AppendTextAsync(context.Job.Id, context.Attempt, _offset, text, cancellationToken);
        }
        catch (Exception ex) when (ex.IsRedisFailure())
        {
            _broken = true;
        }
        _offset += text.Length;
        _lastFlush = time.GetTimestamp();
    }
}
