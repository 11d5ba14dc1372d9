namespace AiPrompts.Core.Gateway;

/// <summary>
/// A vendor call made on the Api's own data path (the OpenAI-compatible surface), from just before the call until its
/// usage row is written: the record that it began. It is committed before the vendor is called, and it holds the call's
/// budget admission. Ending the call deletes it and writes the usage row in one statement; a row left behind (its Api
/// died during the call) is counted by the Worker's sweep at its estimate, so no call the vendor may bill goes unrecorded.
/// </summary>
public sealed class GatewayCall
{
    public Guid Id { get; set; }
    public Guid UserId { get; set; }
    public Guid? ApiKeyId { get; set; }

    /// <summary>What was called: <c>chat.completion</c>, <c>response</c>, <c>embedding</c> (the usage row's subject type).</summary>
    public required string Surface { get; set; }
    public required string Section { get; set; }
    public required string ProviderId { get; set; }
    public required string ModelId { get; set; }
    public required string KeySource { get; set; }
    public string? Purpose { get; set; }

    /// <summary>The subject of the usage row: the call's own id, which the answer's id is made from (<c>chatcmpl-…</c>, <c>resp_…</c>).</summary>
    public Guid? SubjectId { get; set; }

    /// <summary>The call's estimate: what its budget admission holds, and what the sweep counts when its end was never written.</summary>
    public decimal ReservedCost { get; set; }
    public long ReservedTokens { get; set; }

    /// <summary>Which budgets admitted it (1 the user's or role's, 2 the API key's): what is given back when the row goes.</summary>
    public int BudgetScopes { get; set; }
    public DateTimeOffset StartedAt { get; set; }
}

/// <summary>The surfaces a gateway call is made for, as the usage rows name them.</summary>
public static class GatewaySurfaces
{
    public const string ChatCompletion = "chat.completion";
    public const string Response = "response";
    public const string Embedding = "embedding";
}
