using System.Globalization;
using System.Text.Json;
using Npgsql;

namespace AiPrompts.Core.Budgets;

/// <summary>
/// The database's refusal of a job past a hard budget limit (SQLSTATE AB001 from the budget_reserve trigger): which
/// budget and limit, its ceiling, what is spent or reserved, what the job asked for, and when the limit resets.
/// The same JSON, without the refusal, is a soft-threshold warning.
/// </summary>
public sealed record BudgetRefusal(Guid BudgetId, string Scope, string Limit, decimal Ceiling, decimal Used, decimal Requested, DateTimeOffset ResetsAt, int SoftPercent)
{
    public const string SqlState = "AB001";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>The refusal in <paramref name="exception"/> or any exception inside it (EF Core wraps the database's).</summary>
    public static BudgetRefusal? Find(Exception? exception)
    {
        for (; exception is not null; exception = exception.InnerException)
        {
            if (exception is PostgresException { SqlState: SqlState } refusal)
            {
                return Parse(refusal.MessageText);
            }
        }
        return null;
    }

    public static BudgetRefusal? Parse(string? json) => json is null ? null : JsonSerializer.Deserialize<BudgetRefusal>(json, Json);

    public bool IsTokens => Limit == BudgetLimits.TokensPerDay;

    /// <summary>The slots of the localised message: amounts in US dollars or tokens, the reset as an ISO instant in UTC.</summary>
    public IReadOnlyDictionary<string, string> MessageArgs => new Dictionary<string, string>
    {
        ["scope"] = Scope,
        ["limit"] = Limit,
        ["ceiling"] = Amount(Ceiling),
        ["used"] = Amount(Used),
        ["requested"] = Amount(Requested),
        ["resetsAt"] = ResetsAt.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
    };

    private string Amount(decimal value) => IsTokens
        ? string.Create(CultureInfo.InvariantCulture, $"{value:0} tokens")
        : string.Create(CultureInfo.InvariantCulture, $"{value:0.########} USD");
}
