namespace AiPrompts.Api;

/// <summary>Successful bodies are wrapped as <c>{"data": ...}</c>, as the template contract does.</summary>
public sealed record DataEnvelope<T>(T Data);

/// <summary>A page of a list, with the cursor of the next page (null on the last).</summary>
public sealed record PageEnvelope<T>(IReadOnlyList<T> Data, string? NextCursor);

public static class DataEnvelope
{
    public static DataEnvelope<T> Of<T>(T data) => new(data);
}
