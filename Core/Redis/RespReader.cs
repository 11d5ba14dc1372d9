using System.Buffers.Text;
using System.Globalization;
using System.Text;

namespace AiPrompts.Core.Redis;

/// <summary>Reads RESP2 and RESP3 replies from a stream through one reusable buffer.</summary>
internal sealed class RespReader(Stream stream)
{
    private byte[] _buffer = new byte[16 * 1024];
    private int _start;
    private int _end;

    public async ValueTask<RedisReply> ReadAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var (prefix, line) = await ReadHeaderAsync(cancellationToken).ConfigureAwait(false);
            if (prefix == (byte)'|')
            {
                // RESP3 attributes describe the reply that follows; nothing here needs them.
                await ReadItemsAsync(checked((int)ParseInteger(line) * 2), cancellationToken).ConfigureAwait(false);
                continue;
            }
            return await ReadBodyAsync(prefix, line, cancellationToken).ConfigureAwait(false);
        }
    }

    private async ValueTask<RedisReply> ReadBodyAsync(byte prefix, byte[] line, CancellationToken cancellationToken)
    {
        switch (prefix)
        {
            case (byte)'+':
                return RedisReply.String(RedisReplyKind.SimpleString, line);
            case (byte)'-':
                return RedisReply.String(RedisReplyKind.Error, line);
            case (byte)':':
                return RedisReply.FromInteger(ParseInteger(line));
            case (byte)'_':
                return RedisReply.Null;
            case (byte)'#':
                return RedisReply.FromBoolean(line.Length == 1 && line[0] == (byte)'t');
            case (byte)',':
                return RedisReply.FromDouble(ParseDouble(line));
            case (byte)'(':
                return RedisReply.String(RedisReplyKind.BigNumber, line);
            case (byte)'$':
            case (byte)'=':
            case (byte)'!':
            {
                var length = ParseInteger(line);
                if (length < 0)
                {
                    return RedisReply.Null;
                }
                var payload = await ReadBulkAsync(checked((int)length), cancellationToken).ConfigureAwait(false);
                if (prefix == (byte)'=')
                {
                    payload = payload.Length >= 4 ? payload[4..] : payload; // drop the "txt:" format marker
                }
                return RedisReply.String(prefix == (byte)'!' ? RedisReplyKind.Error : RedisReplyKind.BulkString, payload);
            }
            case (byte)'*':
            case (byte)'~':
            case (byte)'>':
            {
                var count = ParseInteger(line);
                if (count < 0)
                {
                    return RedisReply.Null;
                }
                var items = await ReadItemsAsync(checked((int)count), cancellationToken).ConfigureAwait(false);
                var kind = prefix switch { (byte)'~' => RedisReplyKind.Set, (byte)'>' => RedisReplyKind.Push, _ => RedisReplyKind.Array };
                return RedisReply.Aggregate(kind, items);
            }
            case (byte)'%':
            {
                var items = await ReadItemsAsync(checked((int)ParseInteger(line) * 2), cancellationToken).ConfigureAwait(false);
                return RedisReply.Aggregate(RedisReplyKind.Map, items);
            }
            default:
                throw new RedisConnectionException($"Unexpected RESP type byte 0x{prefix:x2}: the stream is out of step.");
        }
    }

    private async ValueTask<RedisReply[]> ReadItemsAsync(int count, CancellationToken cancellationToken)
    {
        var items = new RedisReply[count];
        for (var i = 0; i < count; i++)
        {
            items[i] = await ReadAsync(cancellationToken).ConfigureAwait(false);
        }
        return items;
    }

    private async ValueTask<(byte Prefix, byte[] Line)> ReadHeaderAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var span = _buffer.AsSpan(_start, _end - _start);
            var lf = span.IndexOf((byte)'\n');
            if (lf >= 1 && span[lf - 1] == (byte)'\r')
            {
                var prefix = span[0];
                var line = span[1..(lf - 1)].ToArray();
                _start += lf + 1;
                return (prefix, line);
            }
            await FillAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private async ValueTask<byte[]> ReadBulkAsync(int length, CancellationToken cancellationToken)
    {
        while (_end - _start < length + 2)
        {
            await FillAsync(cancellationToken).ConfigureAwait(false);
        }
        var payload = _buffer.AsSpan(_start, length).ToArray();
        _start += length + 2;
        return payload;
    }

    private async ValueTask FillAsync(CancellationToken cancellationToken)
    {
        if (_start > 0)
        {
            Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
            _end -= _start;
            _start = 0;
        }
        if (_end == _buffer.Length)
        {
            Array.Resize(ref _buffer, _buffer.Length * 2);
        }
        var read = await stream.ReadAsync(_buffer.AsMemory(_end), cancellationToken).ConfigureAwait(false);
        if (read == 0)
        {
            throw new RedisConnectionException("Redis closed the connection.");
        }
        _end += read;
    }

    private static long ParseInteger(byte[] line) =>
        Utf8Parser.TryParse(line, out long value, out var consumed) && consumed == line.Length
            ? value
            : throw new RedisConnectionException("Malformed RESP integer.");

    private static double ParseDouble(byte[] line)
    {
        var text = Encoding.ASCII.GetString(line);
        return text switch
        {
            "inf" => double.PositiveInfinity,
            "-inf" => double.NegativeInfinity,
            "nan" => double.NaN,
            _ => double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture),
        };
    }
}
