using System.Globalization;
using System.Text;

namespace AiPrompts.Core.Redis;

public enum RedisReplyKind
{
    SimpleString,
    Error,
    Integer,
    BulkString,
    Array,
    Null,
    Double,
    Boolean,
    BigNumber,
    Map,
    Set,
    Push,
}

/// <summary>One RESP2 or RESP3 reply. Strings keep their raw bytes; aggregates keep their items in order.</summary>
public sealed class RedisReply
{
    public static readonly RedisReply Null = new(RedisReplyKind.Null);

    private RedisReply(RedisReplyKind kind) => Kind = kind;

    public RedisReplyKind Kind { get; }
    public byte[]? Bytes { get; private init; }
    public long Integer { get; private init; }
    public double Double { get; private init; }
    public IReadOnlyList<RedisReply> Items { get; private init; } = [];

    public bool IsNull => Kind == RedisReplyKind.Null;
    public bool IsError => Kind == RedisReplyKind.Error;
    public bool IsAggregate => Kind is RedisReplyKind.Array or RedisReplyKind.Map or RedisReplyKind.Set or RedisReplyKind.Push;

    public static RedisReply String(RedisReplyKind kind, byte[] bytes) => new(kind) { Bytes = bytes };
    public static RedisReply FromInteger(long value) => new(RedisReplyKind.Integer) { Integer = value };
    public static RedisReply FromDouble(double value) => new(RedisReplyKind.Double) { Double = value };
    public static RedisReply FromBoolean(bool value) => new(RedisReplyKind.Boolean) { Integer = value ? 1 : 0 };
    public static RedisReply Aggregate(RedisReplyKind kind, IReadOnlyList<RedisReply> items) => new(kind) { Items = items };

    public string? AsString() => Kind switch
    {
        RedisReplyKind.Null => null,
        RedisReplyKind.Integer or RedisReplyKind.Boolean => Integer.ToString(CultureInfo.InvariantCulture),
        RedisReplyKind.Double => Double.ToString(CultureInfo.InvariantCulture),
        _ when Bytes is not null => Encoding.UTF8.GetString(Bytes),
        _ => throw new InvalidCastException($"A {Kind} reply is not a string."),
    };

    public long AsInt64() => Kind switch
    {
        RedisReplyKind.Integer or RedisReplyKind.Boolean => Integer,
        RedisReplyKind.SimpleString or RedisReplyKind.BulkString or RedisReplyKind.BigNumber =>
            long.Parse(AsString()!, CultureInfo.InvariantCulture),
        _ => throw new InvalidCastException($"A {Kind} reply is not an integer."),
    };

    public override string ToString() => Kind switch
    {
        RedisReplyKind.Null => "(nil)",
        _ when IsAggregate => $"{Kind}[{Items.Count}]",
        _ => $"{Kind}: {AsString()}",
    };
}
