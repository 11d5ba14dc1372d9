using AiPrompts.Core.Providers;

namespace AiPrompts.Core.Budgets;

/// <summary>
/// Who a job is for and what it is expected to use: the tokens of its prompt and of the answer it may write,
/// priced from the catalogue. The job row carries it; the database reserves it against the caller's budgets
/// as the row is saved (refusing it past a hard limit) and releases it when the job ends.
/// </summary>
public sealed record JobCharge(Guid UserId, Guid? ApiKeyId, long Tokens, decimal Cost)
{
    /// <summary>Four characters a token: the usual rule of thumb for English text, a little generous for most others.</summary>
    public const int CharactersPerToken = 4;

    /// <summary>What a call to <paramref name="model"/> with <paramref name="text"/> and an answer of at most <paramref name="outputTokens"/> is expected to use.</summary>
    public static JobCharge Estimate(AiCaller caller, AiModel? model, string? text, long outputTokens) =>
        Estimate(caller, model, text?.Length ?? 0, outputTokens);

    /// <summary>The same, for a prompt of <paramref name="inputCharacters"/> in all (a conversation's messages, instructions).</summary>
    public static JobCharge Estimate(AiCaller caller, AiModel? model, long inputCharacters, long outputTokens)
    {
        var input = InputTokens(inputCharacters);
        return new JobCharge(caller.UserId, caller.ApiKeyId, input + outputTokens, model?.Prices.CostOf(input, outputTokens) ?? 0m);
    }

    private static long InputTokens(long characters) => (characters + CharactersPerToken - 1) / CharactersPerToken;
}

/// <summary>Budgets' settings.</summary>
public sealed class BudgetOptions
{
    public const string Section = "Budgets";

    /// <summary>The answer length a job is expected to use when the request sets none (tokens).</summary>
    public int DefaultOutputTokens { get; set; } = 1024;

    /// <summary>
    /// How long a job's admission made ahead of its insert may wait to be taken over by that insert; the Worker gives back
    /// older ones (their Api died in between). Far longer than any save takes.
    /// </summary>
    public TimeSpan ReservationTimeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>How often the Worker looks for such reservations (one statement).</summary>
    public TimeSpan SweepInterval { get; set; } = TimeSpan.FromMinutes(1);
}

/// <summary>The charge of a job the caller asks for, from the model's catalogue prices and the budgets' settings.</summary>
public sealed class ChargeEstimator(Microsoft.Extensions.Options.IOptions<BudgetOptions> options)
{
    public JobCharge For(AiCaller caller, AiModel? model, string? text, long? maxOutputTokens = null) =>
        JobCharge.Estimate(caller, model, text, maxOutputTokens ?? options.Value.DefaultOutputTokens);

    public JobCharge For(AiCaller caller, AiModel? model, long inputCharacters, long? maxOutputTokens) =>
        JobCharge.Estimate(caller, model, inputCharacters, maxOutputTokens ?? options.Value.DefaultOutputTokens);
}
