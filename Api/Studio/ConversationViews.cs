using System.Text.Json;
using AiPrompts.Api.Auth;
using AiPrompts.Api.Errors;
using AiPrompts.Core.Assistants;
using AiPrompts.Core.Data;
using AiPrompts.Core.Errors;
using AiPrompts.Core.Jobs;
using AiPrompts.Core.Studio;
using Microsoft.EntityFrameworkCore;

namespace AiPrompts.Api.Studio;

/// <summary>Messages as the studio shows them: a failed one with its step's localised reason, an image as a signed link.</summary>
internal sealed class MessageViews(AppDbContext db, MediaLinks links, MessageCatalog messages, IHttpContextAccessor http, TimeProvider time)
{
    public async Task<IReadOnlyList<ConversationMessage>> ListAsync(Guid threadId, CancellationToken cancellationToken) =>
        await ViewsAsync(db.ThreadMessages.AsNoTracking().Where(m => m.ThreadId == threadId), cancellationToken);

    public async Task<ConversationMessage?> FindAsync(Guid threadId, Guid messageId, CancellationToken cancellationToken) =>
        (await ViewsAsync(db.ThreadMessages.AsNoTracking().Where(m => m.ThreadId == threadId && m.Id == messageId), cancellationToken)) is [var one] ? one : null;

    private async Task<IReadOnlyList<ConversationMessage>> ViewsAsync(IQueryable<ThreadMessage> query, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var rows = await query.OrderBy(m => m.Seq)
            .Select(m => new
            {
                Message = m,
                File = db.MediaFiles.FirstOrDefault(f => f.Id == m.MediaFileId && (f.ExpiresAt == null || f.ExpiresAt > now)),
                Job = db.StudioRequests.Where(r => r.Id == m.StudioRequestId).Join(db.Jobs, r => r.JobId, j => j.Id, (r, j) => new { j.LastErrorCode, j.LastErrorArgs, j.Status }).FirstOrDefault(),
            })
            .ToListAsync(cancellationToken);
        var language = http.HttpContext is { } context ? messages.ChooseLanguage(ProblemDetailsEnricher.PreferredLanguages(context.Request)) : MessageCatalog.DefaultLanguage;
        return [.. rows.Select(row =>
        {
            var m = row.Message;
            StudioError? error = null;
            if (m.StudioStatus == StudioStatus.Failed)
            {
                var code = ErrorCode.Find(row.Job?.LastErrorCode) ?? (row.Job?.Status == JobStatus.Cancelled ? ErrorCode.Cancelled : ErrorCode.InternalError);
                var args = row.Job?.LastErrorArgs is { } stored ? JsonSerializer.Deserialize<Dictionary<string, string>>(stored) : null;
                var text = messages.Get(code.Code, language, args);
                error = new StudioError(code.Code, text.UserMessage, text.RecoveryAction);
            }
            return View(m, row.File is { } file ? links.For(file).Url : null, error);
        })];
    }

    public static ConversationMessage View(ThreadMessage m, string? imageUrl, StudioError? error) => new(
        OpenAIIds.Of(OpenAIIds.Message, m.Id), OpenAIIds.Of(OpenAIIds.Thread, m.ThreadId), m.Role, m.Text, m.Intent, m.RefinedPrompt, imageUrl,
        m.StudioStatus switch { StudioStatus.Processing => StudioRequests.Processing, StudioStatus.Failed => StudioRequests.Failed, _ => StudioRequests.Done },
        m.StudioRequestId?.ToString("N"), error, m.CreatedAt);
}
