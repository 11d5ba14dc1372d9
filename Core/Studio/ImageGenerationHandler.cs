using System.Drawing;
using AiPrompts.Core.Errors;
using AiPrompts.Core.Jobs;
using AiPrompts.Core.Media;
using AiPrompts.Core.Providers;
using AiPrompts.Core.Usage;
using AiPrompts.Core.Vendors;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;

namespace AiPrompts.Core.Studio;

#pragma warning disable MEAI001 // IImageGenerator is experimental in Microsoft.Extensions.AI.Abstractions 10.x.

/// <summary>
/// Runs <c>POST /v1/image/generate</c>: the image section's model (OpenAI, Hugging Face, OpenRouter, Gemini or
/// the local one) draws the refined prompt; the picture is checked and re-encoded like an upload and written
/// to the media store, with the request's completion and its usage row, in the job's fenced transaction. For a
/// conversation's message, the same transaction gives the message its image and DONE.
/// </summary>
public sealed class ImageGenerationHandler(
    NpgsqlDataSource dataSource, IServiceScopeFactory scopes, VendorClientFactory vendors, JobEvents events, JobScheduler scheduler,
    IOptions<MediaOptions> media, TimeProvider time) : VendorJobHandler<ImageGenerationHandler.Loaded>(scopes, time)
{
    public const string JobKind = "image_generate";

    public override string Kind => JobKind;

    protected override string SectionOf(Loaded request) => Sections.Image;

    protected override async Task<JobOutcome> CallAsync(JobContext context, Loaded request, VendorAttempt attempt, CancellationToken cancellationToken)
    {
        var target = attempt.Target;
        ImageGenerationResponse response;
        using (var generator = vendors.CreateImageGenerator(target))
        {
            response = await generator.GenerateAsync(new ImageGenerationRequest(request.Prompt),
                new ImageGenerationOptions { ModelId = target.ModelId, ImageSize = new Size(request.Width, request.Height), Count = 1 }, cancellationToken);
        }
        attempt.Metered = MeteredUsage.From(response);
        var picture = response.Contents.OfType<DataContent>().FirstOrDefault(c => c.HasTopLevelMediaType("image"));
        // A vendor's picture is checked and re-encoded as an upload is (its metadata dropped), within the same limits.
        var image = picture is null ? null : ImageSanitizer.Sanitize(picture.Data.ToArray(), picture.MediaType, media.Value);
        if (image?.Bytes is null)
        {
            return JobOutcome.Fail(JobError.Of(ErrorCode.VendorBadRequest, picture is null ? "The model answered without an image." : "The model's image could not be read."),
                attempt.Usage(UsageStatus.Failed, ErrorCode.VendorBadRequest.Code));
        }
        var now = Time.GetUtcNow();
        // The file's id is the request's: a retried attempt writes the same file again, never a second one.
        var fileId = context.Job.SubjectId;
        var elapsed = (int)attempt.Elapsed.TotalMilliseconds;
        var record = new MediaFile
        {
            Id = fileId, OwnerUserId = request.UserId, ContentType = image.ContentType!, Width = image.Width, Height = image.Height,
            Length = image.Bytes.LongLength, Origin = MediaLibrary.Generated, CreatedAt = now,
            ExpiresAt = request.Store ? null : now + media.Value.UnstoredRetention,
        };
        IReadOnlyList<NpgsqlBatchCommand> stored;
        await using (var scope = Scopes.CreateAsyncScope())
        {
            stored = await scope.ServiceProvider.GetRequiredService<IMediaStore>().StageAsync(record, image.Bytes, cancellationToken);
        }
        var completed = JobStore.Command("UPDATE studio_requests SET media_file_id = $2, processing_ms = $3, completed_at = $4 WHERE id = $1",
            context.Job.SubjectId, fileId, elapsed, now);
        var succeeded = attempt.Usage(UsageStatus.Succeeded);
        return request.MessageId is { } messageId
            ? JobOutcome.Succeed([.. stored, completed, succeeded, JobStore.Command(
                "UPDATE thread_messages SET media_file_id = $2, studio_status = 'done' WHERE id = $1 AND studio_request_id = $3", messageId, fileId, context.Job.SubjectId)])
            : JobOutcome.Succeed([.. stored, completed, succeeded]);
    }

    public override IEnumerable<NpgsqlBatchCommand> FinalWrites(JobContext context) => [StudioSteps.FailMessage(context)];

    /// <summary>The Api's bounded wait and a conversation's streams hear the end through Redis (best effort: the database is the truth).</summary>
    public override ValueTask OnStatusChangedAsync(JobContext context, string status, CancellationToken cancellationToken) =>
        StudioSteps.NotifyAsync(dataSource, events, scheduler, context, status, cancellationToken);

    protected override async Task<Loaded?> LoadAsync(Guid subjectId, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT r.user_id, u.role, u.is_disabled, r.provider_id, r.model_id, r.prompt, r.width, r.height, r.store, r.message_id
            FROM studio_requests r JOIN users u ON u.id = r.user_id WHERE r.id = $1
            """);
        command.Parameters.Add(new() { Value = subjectId, NpgsqlDbType = NpgsqlDbType.Uuid });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken)
            ? new Loaded(reader.GetGuid(0), reader.GetString(1), reader.GetBoolean(2), reader.GetString(3), reader.GetString(4), reader.GetString(5), reader.GetInt32(6), reader.GetInt32(7), reader.GetBoolean(8),
                reader.IsDBNull(9) ? null : reader.GetGuid(9))
            : null;
    }

    public sealed record Loaded(Guid UserId, string Role, bool UserDisabled, string ProviderId, string ModelId, string Prompt, int Width, int Height, bool Store, Guid? MessageId)
        : IVendorJobRequest;
}
