using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using AiPrompts.Api.Errors;
using AiPrompts.Api.Jobs;
using AiPrompts.Core.Budgets;
using AiPrompts.Core.Data;
using AiPrompts.Core.Errors;
using AiPrompts.Core.Input;
using AiPrompts.Core.Jobs;
using AiPrompts.Core.Providers;
using AiPrompts.Core.Studio;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace AiPrompts.Api.Studio;

/// <summary>
/// What the studio's services share: their statuses in the documents' words, the choice of a section's model for the
/// caller (a missing model is a field error, a missing key a refusal), the checks of a refinement's fields and of an image
/// size, and the submission of a studio request through the front door, waiting up to <c>Studio:Wait</c> for it.
/// </summary>
internal static partial class StudioRequests
{
    public const string Processing = "PROCESSING";
    public const string Done = "DONE";
    public const string Failed = "FAILED";
    private const int MaxLabelLength = 200;

    /// <summary>Whether a request that does not say keeps its output: the section's default, set by the super admin.</summary>
    internal static Task<bool> StoreByDefaultAsync(AppDbContext db, string section, CancellationToken cancellationToken) =>
        db.Sections.AsNoTracking().Where(s => s.Name == section).Select(s => s.StoreByDefault).FirstOrDefaultAsync(cancellationToken);

    /// <summary>The section's model (or the one named) for the caller, or why it cannot be used: no such model is a field error, no key a refusal.</summary>
    internal static async Task<(AccessDecision Decision, ProblemHttpResult? Refusal)> DecideAsync(
        AiAccess access, AiCaller caller, string section, string? provider, string? model, CancellationToken cancellationToken)
    {
        var decision = await access.ForSectionAsync(caller, section, provider, model, cancellationToken);
        if (decision.Provider is null || decision.Model is null)
        {
            var named = string.Join('/', new[] { provider, model }.Where(n => !string.IsNullOrWhiteSpace(n)));
            return (decision, ApiProblem.ValidationAsProblem(new Dictionary<string, string[]> { ["model"] = [named.Length == 0 ? $"No enabled {section} model." : $"No enabled {section} model '{named}'."] }));
        }
        return (decision, decision.Outcome.Refusal is { } refusal ? ApiProblem.Of(refusal, decision.MessageArgs) : null);
    }

    /// <summary>The refinement's fields, checked the same way for the service and for a conversation's message.</summary>
    internal static void CheckRefinement(string? prompt, string? style, string? lang, string? topic, string? imageUrl, string promptField, StudioOptions options, Dictionary<string, string[]> errors)
    {
        if (string.IsNullOrWhiteSpace(prompt))
        {
            errors[promptField] = [$"The {promptField} is required."];
        }
        else if (TextLength.Of(prompt) > options.MaxPromptLength)
        {
            errors[promptField] = [$"The {promptField} is longer than {options.MaxPromptLength} characters."];
        }
        foreach (var (field, value) in (ReadOnlySpan<(string, string?)>)[("style", style), ("topic", topic)])
        {
            if (value is not null && TextLength.Of(value) > MaxLabelLength)
            {
                errors[field] = [$"The {field} is longer than {MaxLabelLength} characters."];
            }
        }
        if (lang is not null && !LanguageTag().IsMatch(lang))
        {
            errors["lang"] = ["The lang is a language tag such as vi, en or pt-BR."];
        }
        if (imageUrl is not null && (imageUrl.Length > 2048 || !Uri.TryCreate(imageUrl, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https")))
        {
            errors["image_url"] = ["The image_url is an absolute http or https URL of at most 2048 characters."];
        }
    }

    /// <summary>Submits the request with its job and waits up to Studio:Wait for it to end; the refusal when it is not admitted.</summary>
    internal static async Task<(Guid Id, ProblemHttpResult? Refusal)> SubmitAsync(AppDbContext db, JobScheduler scheduler, JobSubmission submission, StudioOptions options, TimeProvider time,
        StudioRequest request, JobCharge charge, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        request.Id = Guid.CreateVersion7(now);
        request.CreatedAt = now;
        var job = scheduler.Create(request.Kind, request.Id, options.MaxAttempts, charge);
        request.JobId = job.Id;
        var submitted = await submission.SubmitAsync([job], async ct =>
        {
            await using var transaction = await db.Database.BeginTransactionAsync(ct);
            db.Jobs.Add(job);
            await db.SaveChangesAsync(ct);
            db.StudioRequests.Add(request);
            await db.SaveChangesAsync(ct);
            await transaction.CommitAsync(ct);
            return true;
        }, cancellationToken, options.Wait);
        return (request.Id, submitted.Refusal);
    }

    internal static async Task<Found?> FindAsync(AppDbContext db, Guid userId, Guid id, string kind, CancellationToken cancellationToken) =>
        await db.StudioRequests.AsNoTracking().Where(r => r.Id == id && r.UserId == userId && r.Kind == kind)
            .Join(db.Jobs.AsNoTracking(), r => r.JobId, j => j.Id, (r, j) => new Found(r, j.Status, j.LastErrorCode, j.LastErrorArgs))
            .FirstOrDefaultAsync(cancellationToken);

    internal static ProblemHttpResult Failure(Found found)
    {
        var code = ErrorCode.Find(found.LastErrorCode) ?? (found.Status == JobStatus.Cancelled ? ErrorCode.Cancelled : ErrorCode.InternalError);
        return ApiProblem.Of(code, found.LastErrorArgs is { } args ? JsonSerializer.Deserialize<Dictionary<string, string>>(args) : null);
    }

    internal static double Seconds(int? milliseconds) => Math.Round((milliseconds ?? 0) / 1000.0, 3);

    internal static string? Clean(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    internal sealed record Found(StudioRequest Request, string Status, string? LastErrorCode, string? LastErrorArgs);

    [GeneratedRegex("^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8}){0,3}$")]
    private static partial Regex LanguageTag();

    /// <summary>An image size (WIDTHxHEIGHT, default 1024x1024), or a field error.</summary>
    internal static (int Width, int Height) CheckSize(string? size, Dictionary<string, string[]> errors)
    {
        if (!TryParseSize(size ?? "1024x1024", out var width, out var height))
        {
            errors["size"] = ["The size is WIDTHxHEIGHT, each from 64 to 4096 pixels, e.g. 1024x1024."];
        }
        return (width, height);
    }

    private static bool TryParseSize(string size, out int width, out int height)
    {
        width = height = 0;
        var parts = size.Split('x', 'X');
        return parts.Length == 2
            && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out width) && width is >= 64 and <= 4096
            && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out height) && height is >= 64 and <= 4096;
    }
}
