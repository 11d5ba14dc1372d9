using System.Security.Claims;
using System.Text.Json;
using AiPrompts.Api.Auth;
using AiPrompts.Core.Caching;
using AiPrompts.Core.Data;
using AiPrompts.Core.Errors;
using AiPrompts.Core.Jobs;
using AiPrompts.Core.PromptRequests;
using Microsoft.EntityFrameworkCore;

namespace AiPrompts.Api.PromptRequests;

/// <summary>A request with its job and response, read in one query.</summary>
internal sealed record PromptRequestRow(PromptRequest Request, Job Job, PromptResponse? Response)
{
    public string Status => PromptRequestStatus.FromJob(Job.Status);
}

/// <summary>Reads requests the caller may see (their own; everyone's for a super admin) and shapes them for the API.</summary>
internal sealed class PromptRequestReader(AppDbContext db, RetainedTexts retainedTexts, MessageCatalog messages)
{
    /// <summary>Null when the request does not exist or is someone else's (the caller cannot tell which).</summary>
    public async Task<PromptRequestRow?> FindAsync(ClaimsPrincipal caller, Guid id, CancellationToken cancellationToken)
    {
        var row = await (
            from r in db.PromptRequests.AsNoTracking()
            join j in db.Jobs.AsNoTracking() on r.JobId equals j.Id
            from resp in db.PromptResponses.AsNoTracking().Where(x => x.PromptRequestId == r.Id).DefaultIfEmpty()
            where r.Id == id
            select new { r, j, resp }).FirstOrDefaultAsync(cancellationToken);
        if (row is null || !caller.CanRead(row.r.UserId, Visibility.Overseen))
        {
            return null;
        }
        return new PromptRequestRow(row.r, row.j, row.resp);
    }

    public async Task<PromptRequestDetail> DetailAsync(PromptRequestRow row, string language, CancellationToken cancellationToken)
    {
        var (request, job, response) = row;
        string? promptText = request.PromptText, responseText = response?.ResponseText;
        DateTimeOffset? retainedUntil = null;
        if (!request.Store && job.IsFinished)
        {
            // Not stored: the texts were in Postgres only while the job ran; Redis keeps them for a while.
            try
            {
                if (await retainedTexts.ReadAsync(request.Id, cancellationToken) is { } retained)
                {
                    promptText = retained.PromptText;
                    responseText = retained.ResponseText;
                    retainedUntil = retained.ExpiresAt;
                }
            }
            catch (Exception ex) when (ex.IsRedisFailure())
            {
                // Redis is down: the texts are unavailable for now; everything else is in the database.
            }
        }
        return new PromptRequestDetail(
            request.Id, request.UserId, row.Status, request.PromptType, request.Section, request.ProviderId, request.ModelId,
            PurposeOf(request), request.Metadata is { } metadata ? JsonDocument.Parse(metadata).RootElement.Clone() : null,
            request.Store, promptText, request.TemplateVersion,
            response is null ? null : new PromptResponseBody(responseText, response.FinishReason, response.DurationMs, response.InputTokens,
                response.OutputTokens, response.Cost, response.Attempt, response.CreatedAt),
            ErrorOf(job, language), job.Attempt, job.MaxAttempts, request.CreatedAt, job.StartedAt, job.FinishedAt, retainedUntil, TraceIdOf(job.TraceParent));
    }

    /// <summary>The trace id of a W3C traceparent ("00-{trace id}-{span id}-{flags}"); null when there is none.</summary>
    internal static string? TraceIdOf(string? traceParent) =>
        traceParent?.Split('-') is [_, { Length: 32 } traceId, _, _] ? traceId : null;

    public static PromptRequestSummary Summary(PromptRequest request, Job job) => new(
        request.Id, request.UserId, PromptRequestStatus.FromJob(job.Status), request.PromptType, request.Section, request.ProviderId, request.ModelId,
        PurposeOf(request), request.Store, job.Attempt, request.CreatedAt, job.StartedAt, job.FinishedAt);

    private static Purpose? PurposeOf(PromptRequest r) => r.PurposeCode is null && r.PurposeText is null ? null : new Purpose(r.PurposeCode, r.PurposeText);

    /// <summary>The last error, in the caller's language; shown while a retry waits too, so clients can say why.</summary>
    private PromptRequestError? ErrorOf(Job job, string language)
    {
        if (job.LastErrorCode is not { } code || job.Status == JobStatus.Succeeded)
        {
            return null;
        }
        var args = job.LastErrorArgs is { } json ? JsonSerializer.Deserialize<Dictionary<string, string>>(json) : null;
        var text = messages.Get(code, language, args);
        return new PromptRequestError(code, job.LastErrorMessage, text.UserMessage, text.RecoveryAction);
    }
}
