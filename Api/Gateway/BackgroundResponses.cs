using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using AiPrompts.Api.Auth;
using AiPrompts.Api.Errors;
using AiPrompts.Api.Jobs;
using AiPrompts.Core.Caching;
using AiPrompts.Core.Data;
using AiPrompts.Core.Errors;
using AiPrompts.Core.Gateway;
using AiPrompts.Core.Jobs;
using Microsoft.Extensions.Options;
using Npgsql;

namespace AiPrompts.Api.Gateway;

/// <summary>A stored response as read for its owner, with its job's state when it is a background one.</summary>
internal sealed record FoundResponse(string Id, string Body, Guid? JobId, string? JobStatus, string? ErrorCode, string? ErrorArgs);

/// <summary>
/// Background responses (<c>background: true</c>): submitted as jobs through the job engine's one admission (tokens,
/// budgets), answered at once as <c>queued</c> (or followed as a stream); their status read from their job while they run;
/// cancelled through the engine's one cancellation; their events followed and resumed from the Worker's event log.
/// </summary>
internal sealed class BackgroundResponses(
    GatewayAdmission admission, JobSubmission submission, JobScheduler scheduler, JobCancellation cancellation, JobEvents events, ResponseEventLog log,
    AppDbContext db, NpgsqlDataSource data, MessageCatalog messages, IOptions<GatewayOptions> options, TimeProvider time)
{
    /// <summary>How long a cancel waits for a running response to stop before it answers with where it stands.</summary>
    private static readonly TimeSpan CancelWait = TimeSpan.FromSeconds(10);

    public async Task<IResult> SubmitAsync(HttpContext http, GatewayAsk ask, ResponseInput input, JsonElement request, IReadOnlyList<JsonNode?> context, int? templateVersion, CancellationToken cancellationToken)
    {
        var (admitted, refusal) = await admission.ResolveAsync(http, ask, cancellationToken);
        if (admitted is null)
        {
            return refusal!;
        }
        var now = time.GetUtcNow();
        var subject = Guid.CreateVersion7(now);
        var id = BackgroundResponseHandler.ResponseId(subject);
        var model = ModelIds.Of(admitted.Target.ProviderId, admitted.Target.ModelId);
        var queued = ResponseWriter.Response(id, now.ToUnixTimeSeconds(), "queued", model, input, input.Instructions, null, null, null, input.Prompt, templateVersion);
        var job = scheduler.Create(BackgroundResponseHandler.JobKind, subject, options.Value.BackgroundAttempts, admitted.Charge);
        var stored = new StoredResponse
        {
            Id = id,
            UserId = admitted.Caller.UserId,
            ApiKeyId = admitted.Caller.ApiKeyId,
            PreviousResponseId = input.PreviousResponseId,
            Model = model,
            Status = "queued",
            InputItems = input.Items.ToJsonString(),
            Body = queued.ToJsonString(),
            TemplateType = input.Prompt?.Id,
            TemplateVersion = templateVersion,
            CreatedAt = now,
            JobId = job.Id,
            Request = request.GetRawText(),
            RunContext = JsonSerializer.Serialize(context),
            Purpose = admitted.Purpose,
        };
        var submitted = await submission.SubmitAsync([job], async token =>
        {
            await using var transaction = await db.Database.BeginTransactionAsync(token);
            db.Jobs.Add(job);
            await db.SaveChangesAsync(token);
            db.StoredResponses.Add(stored);
            await db.SaveChangesAsync(token);
            await transaction.CommitAsync(token);
            return true;
        }, cancellationToken);
        if (submitted.Refusal is { } refused)
        {
            return refused;
        }
        return input.Stream
            ? Stream(http, new FoundResponse(id, stored.Body, job.Id, JobStatus.Queued, null, null), -1, cancellationToken)
            : TypedResults.Text(stored.Body, "application/json");
    }

    public async Task<FoundResponse?> FindAsync(string id, Guid user, CancellationToken cancellationToken)
    {
        await using var command = data.CreateCommand("""
            SELECT r.body::text, r.job_id, j.status, j.last_error_code, j.last_error_args::text
            FROM gateway_responses r LEFT JOIN jobs j ON j.id = r.job_id WHERE r.id = $1 AND r.user_id = $2
            """);
        command.Parameters.Add(new() { Value = id });
        command.Parameters.Add(new() { Value = user });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken)
            ? new FoundResponse(id, reader.GetString(0), reader.IsDBNull(1) ? null : reader.GetGuid(1), reader.IsDBNull(2) ? null : reader.GetString(2),
                reader.IsDBNull(3) ? null : reader.GetString(3), reader.IsDBNull(4) ? null : reader.GetString(4))
            : null;
    }

    /// <summary>
    /// The response as it stands: as stored once it has completed; while its job runs, <c>queued</c> or <c>in_progress</c>;
    /// when it failed, <c>failed</c> with the error in the caller's language; <c>cancelled</c> when it was.
    /// </summary>
    public JsonObject View(HttpContext http, FoundResponse found)
    {
        var body = JsonNode.Parse(found.Body)!.AsObject();
        if (found.JobStatus is null or JobStatus.Succeeded)
        {
            return body;
        }
        body["status"] = found.JobStatus switch
        {
            JobStatus.Queued => "queued",
            JobStatus.Running => "in_progress",
            JobStatus.Failed => "failed",
            _ => "cancelled",
        };
        if (found.JobStatus == JobStatus.Failed)
        {
            var code = found.ErrorCode ?? ErrorCode.InternalError.Code;
            var args = found.ErrorArgs is { } json ? JsonSerializer.Deserialize<Dictionary<string, string>>(json) : null;
            var language = messages.ChooseLanguage(ProblemDetailsEnricher.PreferredLanguages(http.Request));
            body["error"] = new JsonObject { ["code"] = code, ["message"] = messages.Get(code, language, args).UserMessage };
        }
        return body;
    }

    /// <summary>The response's events after <paramref name="startingAfter"/>: followed to the end while its job runs, else replayed.</summary>
    public IResult Stream(HttpContext http, FoundResponse found, int startingAfter, CancellationToken cancellationToken) =>
        TypedResults.ServerSentEvents(found.JobId is { } job
            ? new ResponseFollower(this, http, found, job, startingAfter, log, events, time).ReadAsync(cancellationToken)
            : ReplayAsync(View(http, found), startingAfter, cancellationToken));

    public async Task<IResult> CancelAsync(HttpContext http, string id, CancellationToken cancellationToken)
    {
        var user = http.User.AiCaller().UserId;
        if (await FindAsync(id, user, cancellationToken) is not { } found)
        {
            return ApiProblem.Of(ErrorCode.NotFound);
        }
        if (found.JobId is not { } job)
        {
            return ApiProblem.Validation(new Dictionary<string, string[]> { ["id"] = ["Only a background response can be cancelled."] });
        }
        await using (var waiter = await JobWaiter.StartAsync(events, job))
        {
            if (await cancellation.CancelAsync(job, cancellationToken) == JobCancelResult.Requested)
            {
                await waiter.WaitAsync(db, CancelWait, time, cancellationToken);
            }
        }
        return await FindAsync(id, user, cancellationToken) is { } now
            ? TypedResults.Text(View(http, now).ToJsonString(), "application/json")
            : ApiProblem.Of(ErrorCode.NotFound);
    }

    /// <summary>Deletes the caller's response; a background one that is still running is cancelled first, and its events go too.</summary>
    public async Task<bool> DeleteAsync(Guid user, string id, CancellationToken cancellationToken)
    {
        await using var command = data.CreateCommand("DELETE FROM gateway_responses WHERE id = $1 AND user_id = $2 RETURNING job_id");
        command.Parameters.Add(new() { Value = id });
        command.Parameters.Add(new() { Value = user });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return false;
        }
        if (!reader.IsDBNull(0))
        {
            await cancellation.CancelAsync(reader.GetGuid(0), CancellationToken.None);
            await log.ForgetAsync(id);
        }
        return true;
    }

    /// <summary>A response that has ended, as its events made again from what was stored.</summary>
    internal static async IAsyncEnumerable<SseItem<string>> ReplayAsync(JsonObject response, int startingAfter, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var replayed = new List<SseItem<string>>();
        await ResponseEvents.ReplayAsync(response, (type, body, _) =>
        {
            if ((int)body["sequence_number"]! > startingAfter)
            {
                replayed.Add(new SseItem<string>(body.ToJsonString(), type));
            }
            return ValueTask.CompletedTask;
        }, cancellationToken);
        foreach (var item in replayed)
        {
            yield return item;
        }
    }

    /// <summary>
    /// Follows a background response: the events its Worker has logged after <c>starting_after</c>, then each new one as the
    /// job's channel says it is there (and at each look at the database); when the job has ended, what is left of the log,
    /// then the end event made from the stored response (a cancelled one just ends). With no log left (Redis lost it, or it
    /// expired) the whole stream is made again from the stored response.
    /// </summary>
    private sealed class ResponseFollower(
        BackgroundResponses responses, HttpContext http, FoundResponse found, Guid job, int startingAfter, ResponseEventLog log, JobEvents events, TimeProvider time)
        : JobEventStream(events, time)
    {
        private long _next = startingAfter + 1;

        protected override (TimeSpan Live, TimeSpan WithoutRedis) PollEvery => (TimeSpan.FromSeconds(1), TimeSpan.FromMilliseconds(250));

        protected override Task<Guid?> ChannelAsync(CancellationToken cancellationToken) => Task.FromResult<Guid?>(job);

        protected override IAsyncEnumerable<SseItem<string>> OpenAsync(CancellationToken cancellationToken) => OnPollAsync(cancellationToken);

        protected override IAsyncEnumerable<SseItem<string>> OnEventAsync(JobEvent next, CancellationToken cancellationToken) =>
            next.IsFinal ? OnPollAsync(cancellationToken) : LoggedAsync(cancellationToken);

        protected override async IAsyncEnumerable<SseItem<string>> OnPollAsync([EnumeratorCancellation] CancellationToken cancellationToken)
        {
            await foreach (var item in LoggedAsync(cancellationToken))
            {
                yield return item;
            }
            var user = http.User.AiCaller().UserId;
            if (await responses.FindAsync(found.Id, user, cancellationToken) is not { } now)
            {
                Ended = true;
                yield return Error(ErrorCode.NotFound.Code, "The response no longer exists.");
                yield break;
            }
            if (now.JobStatus is not (JobStatus.Succeeded or JobStatus.Failed or JobStatus.Cancelled))
            {
                yield break;
            }
            Ended = true;
            // The job's end is committed after its last event was logged: what is logged now is all there is.
            await foreach (var item in LoggedAsync(cancellationToken))
            {
                yield return item;
            }
            var view = responses.View(http, now);
            if (await LoggedCountAsync(cancellationToken) == 0)
            {
                await foreach (var item in ReplayAsync(view, (int)_next - 1, cancellationToken))
                {
                    yield return item;
                }
                yield break;
            }
            if (ResponseEvents.EndOf((string?)view["status"] ?? "") is { } type)
            {
                var end = new JsonObject { ["type"] = type, ["sequence_number"] = _next++, ["response"] = view };
                yield return new SseItem<string>(end.ToJsonString(), type);
            }
        }

        protected override SseItem<string>? Failed(Exception exception) =>
            DatabaseOutage.Find(exception) is not null ? Error(ErrorCode.ServiceUnavailable.Code, "The service is unavailable; read the response again shortly.") : null;

        private SseItem<string> Error(string code, string message) =>
            new(new JsonObject { ["type"] = "error", ["sequence_number"] = _next++, ["code"] = code, ["message"] = message, ["param"] = null }.ToJsonString(), "error");

        private async IAsyncEnumerable<SseItem<string>> LoggedAsync([EnumeratorCancellation] CancellationToken cancellationToken)
        {
            IReadOnlyList<string> logged;
            try
            {
                logged = await log.ReadAsync(found.Id, _next, cancellationToken);
            }
            catch (Exception ex) when (ex.IsRedisFailure() || ex is TimeoutException)
            {
                yield break;
            }
            foreach (var body in logged)
            {
                _next++;
                using var document = JsonDocument.Parse(body);
                yield return new SseItem<string>(body, document.RootElement.GetProperty("type").GetString());
            }
        }

        private async Task<long> LoggedCountAsync(CancellationToken cancellationToken)
        {
            try
            {
                return await log.CountAsync(found.Id, cancellationToken);
            }
            catch (Exception ex) when (ex.IsRedisFailure() || ex is TimeoutException)
            {
                return 0;
            }
        }
    }
}
