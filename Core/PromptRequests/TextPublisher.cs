using System.Text;
using AiPrompts.Core.Caching;

namespace AiPrompts.Core.PromptRequests;

/// <summary>
/// The Worker's side of streaming, for prompt requests and assistant runs alike: publishes streamed text to the
/// subject's channel at most every <c>interval</c>; once Redis fails, it stops trying for this attempt.
/// </summary>
public sealed class TextPublisher(PromptRequestEvents events, Guid id, int attempt, TimeSpan interval, TimeProvider time)
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
            await events.AppendTextAsync(id, attempt, _offset, text, cancellationToken);
        }
        catch (Exception ex) when (ex.IsRedisFailure())
        {
            _broken = true;
        }
        _offset += text.Length;
        _lastFlush = time.GetTimestamp();
    }
}
