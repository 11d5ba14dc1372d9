using System.Buffers;
using System.Buffers.Text;
using System.Text;

namespace AiPrompts.Core.Redis;

/// <summary>Encodes commands as RESP arrays of bulk strings into a growable buffer.</summary>
internal static class RespWriter
{
    public static void WriteCommand(ArrayBufferWriter<byte> output, string command, IReadOnlyList<RedisArg> args)
    {
        WriteLength(output, (byte)'*', args.Count + 1);
        WriteBulk(output, Encoding.UTF8.GetBytes(command));
        foreach (var arg in args)
        {
            WriteBulk(output, arg.Bytes.Span);
        }
    }

    private static void WriteBulk(ArrayBufferWriter<byte> output, ReadOnlySpan<byte> value)
    {
        WriteLength(output, (byte)'$', value.Length);
        output.Write(value);
        output.Write("\r\n"u8);
    }

    private static void WriteLength(ArrayBufferWriter<byte> output, byte prefix, int length)
    {
        var span = output.GetSpan(16);
        span[0] = prefix;
        Utf8Formatter.TryFormat(length, span[1..], out var written);
        span[1 + written] = (byte)'\r';
        span[2 + written] = (byte)'\n';
        output.Advance(written + 3);
    }
}

/// <summary>One command argument; strings are sent as UTF-8.</summary>
public readonly struct RedisArg(ReadOnlyMemory<byte> bytes)
{
    public ReadOnlyMemory<byte> Bytes { get; } = bytes;

    public static implicit operator RedisArg(string value) => new(Encoding.UTF8.GetBytes(value));
    public static implicit operator RedisArg(byte[] value) => new(value);
    public static implicit operator RedisArg(long value) => new(Encoding.ASCII.GetBytes(value.ToString(System.Globalization.CultureInfo.InvariantCulture)));
    public static implicit operator RedisArg(int value) => (long)value;

    public static RedisArg FromBytes(ReadOnlyMemory<byte> value) => new(value);
}
