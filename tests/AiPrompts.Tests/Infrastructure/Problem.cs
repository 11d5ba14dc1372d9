using System.Net;
using System.Text.Json;

namespace AiPrompts.Tests.Infrastructure;

/// <summary>Reads a problem+json response and checks the fields every error must carry.</summary>
public sealed record Problem(int Status, string Code, string Message, string UserMessage, string RecoveryAction, string TraceId, JsonElement Root)
{
    public static async Task<Problem> ReadAsync(HttpResponseMessage response, HttpStatusCode expected)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(expected == response.StatusCode, $"Expected {(int)expected}, got {(int)response.StatusCode}: {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var root = JsonDocument.Parse(text).RootElement.Clone();
        string Field(string name)
        {
            Assert.True(root.TryGetProperty(name, out var value), $"The problem has no '{name}': {text}");
            var s = value.GetString();
            Assert.False(string.IsNullOrWhiteSpace(s), $"The problem's '{name}' is empty: {text}");
            return s!;
        }
        Assert.Equal((int)expected, root.GetProperty("status").GetInt32());
        Field("title");
        return new Problem(root.GetProperty("status").GetInt32(), Field("code"), Field("message"), Field("userMessage"), Field("recoveryAction"), Field("traceId"), root);
    }
}
