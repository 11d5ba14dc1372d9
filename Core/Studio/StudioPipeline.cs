using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using AiPrompts.Core.Jobs;
using Npgsql;
using NpgsqlTypes;

namespace AiPrompts.Core.Studio;

/// <summary>
/// The intents a refinement chooses from (<c>Studio:Refine</c>): the ones that make a picture, each with what it
/// means (told to the model), and the fallback for everything else, which gets a text answer.
/// </summary>
public sealed class RefineOptions
{
    public const string Section = "Studio:Refine";

    /// <summary>Image intents: name → what it means. Configuration adds to (or rewrites) the defaults.</summary>
    public Dictionary<string, string> ImageIntents { get; set; } = new(StringComparer.Ordinal)
    {
        ["generateImage"] = "the user wants a new picture drawn from a description",
        ["styleTransfer"] = "the user wants a picture (theirs or a described one) redrawn in another artistic style",
        ["editBackground"] = "the user wants the background of a picture changed, replaced or removed",
    };

    /// <summary>The intent of anything else (a question, small talk): answered in text by the chat section's model.</summary>
    public string Fallback { get; set; } = "chat";

    public int MaxKeywords { get; set; } = 8;

    public bool IsImageIntent(string intent) => ImageIntents.ContainsKey(intent);

    /// <summary>The fallback first: a model with no better idea (the local one included) lands on it.</summary>
    public IReadOnlyList<string> Intents => [Fallback, .. ImageIntents.Keys.Where(k => k != Fallback)];

    /// <summary>The JSON Schema the answer is held to (strict: every property required, nothing else).</summary>
    public JsonElement Schema()
    {
        var schema = new JsonObject
        {
            ["type"] = "object",
            ["properties"] = new JsonObject
            {
                ["refined_prompt"] = new JsonObject { ["type"] = "string", ["minLength"] = 1, ["description"] = "The prompt rewritten to get the best result from an image or text model." },
                ["intent"] = new JsonObject { ["type"] = "string", ["enum"] = new JsonArray([.. Intents.Select(i => (JsonNode?)JsonValue.Create(i))]) },
                ["keywords"] = new JsonObject { ["type"] = "array", ["items"] = new JsonObject { ["type"] = "string" }, ["maxItems"] = MaxKeywords },
            },
            ["required"] = new JsonArray("refined_prompt", "intent", "keywords"),
            ["additionalProperties"] = false,
        };
        return JsonSerializer.SerializeToElement(schema);
    }

    public string Instructions(string? style, string? topic, string? lang, string? imageUrl)
    {
        var lines = new List<string>
        {
            "You refine prompts for an AI photo studio. Rewrite the user's prompt so that a model gets the best result, classify what the user wants, and list its keywords.",
            "Intents:",
        };
        lines.AddRange(ImageIntents.Select(i => $"- {i.Key}: {i.Value}"));
        lines.Add($"- {Fallback}: anything else (a question or conversation), answered in text");
        if (!string.IsNullOrWhiteSpace(style))
        {
            lines.Add($"Style: {style}");
        }
        if (!string.IsNullOrWhiteSpace(topic))
        {
            lines.Add($"Topic: {topic}");
        }
        if (!string.IsNullOrWhiteSpace(imageUrl))
        {
            lines.Add($"The prompt is about this picture: {imageUrl}");
        }
        lines.Add($"Write refined_prompt and keywords in the language '{(string.IsNullOrWhiteSpace(lang) ? "en" : lang)}'.");
        return string.Join('\n', lines);
    }
}

/// <summary>A refinement's answer, as the document names it.</summary>
public sealed record RefineResult(
    [property: JsonPropertyName("refined_prompt")] string RefinedPrompt,
    [property: JsonPropertyName("intent")] string Intent,
    [property: JsonPropertyName("keywords")] IReadOnlyList<string> Keywords);

/// <summary>Studio message statuses as stored (the API shows them as the document's PROCESSING, DONE and FAILED).</summary>
public static class StudioStatus
{
    public const string Processing = "processing";
    public const string Done = "done";
    public const string Failed = "failed";
}

/// <summary>
/// How a conversation message moves through its steps. Each step is a studio request with its own job; a
/// step's fenced completion writes its result onto the message and, in the same transaction, the next step's
/// request and job, so a crash between steps loses nothing and repeats nothing. The next job continues the
/// trace of the one that made it: the whole pipeline is one trace.
/// </summary>
public static class StudioSteps
{
    /// <summary>
    /// The request and job of the next step (the job first: the request refers to it). The step is for the same user
    /// and API key; it reserves nothing, since the message was admitted against the budgets as a whole at its first step.
    /// </summary>
    public static IEnumerable<NpgsqlBatchCommand> Next(JobContext context, StudioNext next, DateTimeOffset now)
    {
        var jobId = Guid.CreateVersion7(now);
        var job = JobStore.Command("""
            INSERT INTO jobs (id, kind, subject_id, status, max_attempts, run_after, created_at, updated_at, trace_parent, user_id, api_key_id)
            VALUES ($1, $2, $3, 'queued', $4, $5, $5, $5, $6, $7, $8)
            """, jobId, next.Kind, next.Id, context.Job.MaxAttempts, now,
            Activity.Current is { IdFormat: ActivityIdFormat.W3C } current ? current.Id : context.Job.TraceParent, next.UserId, context.Job.ApiKeyId);
        job.Parameters[7].NpgsqlDbType = NpgsqlDbType.Uuid;
        job.Parameters[5].NpgsqlDbType = NpgsqlDbType.Text;
        yield return job;
        var request = JobStore.Command("""
            INSERT INTO studio_requests (id, user_id, kind, provider_id, model_id, prompt, width, height, store, job_id, created_at, lang, style, topic, message_id)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
            """, next.Id, next.UserId, next.Kind, next.ProviderId, next.ModelId, next.Prompt, next.Width, next.Height, next.Store, jobId, now,
            next.Lang, next.Style, next.Topic, next.MessageId);
        foreach (var index in (int[])[11, 12, 13])
        {
            request.Parameters[index].NpgsqlDbType = NpgsqlDbType.Text;
        }
        yield return request;
    }

    /// <summary>With every final state: a message whose current step ended without moving it on has failed (its step's job says why).</summary>
    public static NpgsqlBatchCommand FailMessage(JobContext context) => JobStore.Command(
        "UPDATE thread_messages SET studio_status = 'failed' WHERE studio_request_id = $1 AND studio_status = 'processing'", context.Job.SubjectId);

    /// <summary>The conversation of a request made for a message, if it was.</summary>
    public static async Task<Guid?> ConversationOfAsync(NpgsqlDataSource dataSource, Guid requestId, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("SELECT m.thread_id FROM studio_requests r JOIN thread_messages m ON m.id = r.message_id WHERE r.id = $1");
        command.Parameters.Add(new() { Value = requestId, NpgsqlDbType = NpgsqlDbType.Uuid });
        return await command.ExecuteScalarAsync(cancellationToken) as Guid?;
    }

    /// <summary>
    /// Told after a step's status changes (its own waiters heard it on the job's channel): the conversation's event
    /// streams (its topic), and the workers when a next step was queued. Best effort.
    /// </summary>
    public static async ValueTask NotifyAsync(NpgsqlDataSource dataSource, JobEvents events, JobScheduler scheduler, JobContext context, string status, CancellationToken cancellationToken)
    {
        if (!JobStatus.IsFinal(status))
        {
            return; // a message changes only when a step ends: no lookup for the others
        }
        Guid? conversation;
        try
        {
            conversation = await ConversationOfAsync(dataSource, context.Job.SubjectId, cancellationToken);
        }
        catch (NpgsqlException)
        {
            return; // streams read the database again within seconds; workers poll
        }
        if (conversation is not null)
        {
            await events.PublishChangedAsync(conversation.Value, cancellationToken);
            if (status == JobStatus.Succeeded)
            {
                await scheduler.WakeWorkersAsync(cancellationToken);
            }
        }
    }
}

/// <summary>The next step of a message: a studio request to insert with its job.</summary>
public sealed record StudioNext(
    Guid Id, string Kind, Guid UserId, string ProviderId, string ModelId, string Prompt, int Width, int Height, bool Store,
    string? Lang, string? Style, string? Topic, Guid MessageId);
