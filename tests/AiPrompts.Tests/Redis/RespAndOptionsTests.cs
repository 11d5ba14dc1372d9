using System.Text;
using AiPrompts.Core.Redis;

namespace AiPrompts.Tests.Redis;

/// <summary>The RESP parser on byte streams, and the connection-string parser: pure logic.</summary>
public sealed class RespAndOptionsTests
{
    private static async Task<RedisReply> Parse(string wire)
    {
        var reader = new RespReader(new MemoryStream(Encoding.UTF8.GetBytes(wire)));
        return await reader.ReadAsync(TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task RESP2_types_parse()
    {
        Assert.Equal("OK", (await Parse("+OK\r\n")).AsString());
        Assert.True((await Parse("-ERR bad\r\n")).IsError);
        Assert.Equal(-42, (await Parse(":-42\r\n")).AsInt64());
        Assert.Equal("a\r\nb", (await Parse("$4\r\na\r\nb\r\n")).AsString());
        Assert.True((await Parse("$-1\r\n")).IsNull);
        Assert.True((await Parse("*-1\r\n")).IsNull);
        var array = await Parse("*3\r\n:1\r\n$3\r\nfoo\r\n*1\r\n+x\r\n");
        Assert.Equal(RedisReplyKind.Array, array.Kind);
        Assert.Equal("foo", array.Items[1].AsString());
        Assert.Equal("x", array.Items[2].Items[0].AsString());
    }

    [Fact]
    public async Task RESP3_types_parse()
    {
        Assert.True((await Parse("_\r\n")).IsNull);
        Assert.Equal(1, (await Parse("#t\r\n")).AsInt64());
        Assert.Equal(0, (await Parse("#f\r\n")).AsInt64());
        Assert.Equal(3.5, (await Parse(",3.5\r\n")).Double);
        Assert.Equal(double.PositiveInfinity, (await Parse(",inf\r\n")).Double);
        Assert.Equal("12345678901234567890", (await Parse("(12345678901234567890\r\n")).AsString());
        Assert.Equal("hello", (await Parse("=9\r\ntxt:hello\r\n")).AsString());
        Assert.True((await Parse("!5\r\nERR x\r\n")).IsError);
        var map = await Parse("%1\r\n+key\r\n:7\r\n");
        Assert.Equal(RedisReplyKind.Map, map.Kind);
        Assert.Equal(7, map.Items[1].AsInt64());
        Assert.Equal(RedisReplyKind.Set, (await Parse("~1\r\n+a\r\n")).Kind);
        Assert.Equal(RedisReplyKind.Push, (await Parse(">3\r\n+message\r\n+ch\r\n+hi\r\n")).Kind);
        // An attribute is skipped; the reply after it is what is returned.
        Assert.Equal("real", (await Parse("|1\r\n+ttl\r\n:3\r\n+real\r\n")).AsString());
    }

    [Fact]
    public async Task A_stream_that_ends_mid_reply_is_a_connection_error()
    {
        await Assert.ThrowsAsync<RedisConnectionException>(() => Parse("$10\r\nshort"));
        await Assert.ThrowsAsync<RedisConnectionException>(() => Parse("?what\r\n"));
    }

    [Fact]
    public void The_Aspire_connection_string_form_is_understood()
    {
        var options = RedisOptions.Parse("cache.internal:6380,password=p@ss=word,ssl=True,defaultDatabase=2,connectTimeout=1500,abortConnect=false");

        Assert.Equal("cache.internal", options.Host);
        Assert.Equal(6380, options.Port);
        Assert.Equal("p@ss=word", options.Password);
        Assert.True(options.Ssl);
        Assert.Equal(2, options.Database);
        Assert.Equal(TimeSpan.FromMilliseconds(1500), options.ConnectTimeout);
        Assert.DoesNotContain("p@ss", options.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Defaults_and_IPv6_hosts_parse()
    {
        var plain = RedisOptions.Parse("localhost");
        Assert.Equal(("localhost", 6379, false, 0), (plain.Host, plain.Port, plain.Ssl, plain.Database));
        Assert.Equal(6380, RedisOptions.Parse("h,ssl=true").Port);
        var v6 = RedisOptions.Parse("[::1]:7000,user=app,password=x");
        Assert.Equal(("::1", 7000, "app"), (v6.Host, v6.Port, v6.User));
        Assert.Throws<FormatException>(() => RedisOptions.Parse("password=only"));
    }
}
