namespace AiPrompts.Core.Assistants;

/// <summary>
/// An assistant (OpenAI's Assistants v2 object): instructions, a model from the catalogue, tools. Made by an
/// admin for themselves, or shared with everyone by a super admin. Ids are OpenAI-style (<c>asst_…</c>).
/// </summary>
public sealed class Assistant
{
    public Guid Id { get; set; }
    public Guid? OwnerUserId { get; set; }
    public bool Shared { get; set; }
    public string? Name { get; set; }
    public string? Description { get; set; }

    /// <summary>Null: the chat section's provider.</summary>
    public string? ProviderId { get; set; }

    /// <summary>Null: the chat section's model.</summary>
    public string? ModelId { get; set; }
    public string? Instructions { get; set; }

    /// <summary>The tools as the API takes them (a JSON array).</summary>
    public required string Tools { get; set; }

    /// <summary>Up to 16 string pairs (a JSON object).</summary>
    public required string Metadata { get; set; }
    public float? Temperature { get; set; }
    public float? TopP { get; set; }
    public string? ResponseFormat { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
}

/// <summary>A conversation: its messages are the context of every run on it. Belongs to its creator.</summary>
public sealed class AssistantThread
{
    public Guid Id { get; set; }
    public Guid UserId { get; set; }
    public required string Metadata { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
}

/// <summary>One message of a thread, in the order they were added (<see cref="Seq"/>).</summary>
public sealed class ThreadMessage
{
    public Guid Id { get; set; }
    public long Seq { get; set; }
    public Guid ThreadId { get; set; }

    /// <summary>user or assistant.</summary>
    public required string Role { get; set; }

    /// <summary>The text of the message (its one text content part).</summary>
    public required string Text { get; set; }
    public Guid? AssistantId { get; set; }
    public Guid? RunId { get; set; }
    public required string Metadata { get; set; }
    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>A studio message's progress (processing, done, failed); null for the Assistants surface's messages.</summary>
    public string? StudioStatus { get; set; }

    /// <summary>The studio request working on (or last worked on) this message: its refinement, image or answer.</summary>
    public Guid? StudioRequestId { get; set; }
    public string? Intent { get; set; }
    public string? RefinedPrompt { get; set; }
    public Guid? MediaFileId { get; set; }
}

/// <summary>
/// A run: an assistant answering a thread, as a job. Its status is the job's (queued, in_progress,
/// cancelling, cancelled, failed) except what only the run knows (completed, with its message).
/// </summary>
public sealed class AssistantRun
{
    public Guid Id { get; set; }
    public Guid ThreadId { get; set; }
    public Guid UserId { get; set; }
    public Guid AssistantId { get; set; }
    public Guid JobId { get; set; }

    /// <summary>queued while its job works (the job's state says the rest), then completed, incomplete or requires_action.</summary>
    public required string Status { get; set; }
    public required string ProviderId { get; set; }
    public required string ModelId { get; set; }
    public string? Instructions { get; set; }
    public string? AdditionalInstructions { get; set; }
    public required string Tools { get; set; }
    public required string Metadata { get; set; }
    public float? Temperature { get; set; }
    public float? TopP { get; set; }
    public int? MaxCompletionTokens { get; set; }

    /// <summary>The most prompt tokens the run may send (older messages are left out to fit).</summary>
    public int? MaxPromptTokens { get; set; }

    /// <summary>truncation_strategy last_messages: only the newest N messages are the context; null: auto.</summary>
    public int? LastMessages { get; set; }

    /// <summary>requires_action: the tool calls the model made (OpenAI's required_action object), until outputs come.</summary>
    public string? RequiredAction { get; set; }

    /// <summary>Every round of tool calls with the outputs submitted for them, the context of the run's next step: [{calls, outputs}].</summary>
    public string? ToolRounds { get; set; }

    /// <summary>Until when outputs for <see cref="RequiredAction"/> are taken; after it the run is expired.</summary>
    public DateTimeOffset? ExpiresAt { get; set; }
    public long? PromptTokens { get; set; }
    public long? CompletionTokens { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? CompletedAt { get; set; }
}

/// <summary>OpenAI-style ids over our Guid keys: <c>thread_</c> + 32 hex digits.</summary>
public static class OpenAIIds
{
    public const string Assistant = "asst_";
    public const string Thread = "thread_";
    public const string Message = "msg_";
    public const string Run = "run_";

    public static string Of(string prefix, Guid id) => prefix + id.ToString("N");

    public static bool TryParse(string prefix, string? text, out Guid id)
    {
        id = Guid.Empty;
        return text is not null && text.StartsWith(prefix, StringComparison.Ordinal) && text.Length == prefix.Length + 32
            && Guid.TryParseExact(text.AsSpan(prefix.Length), "N", out id);
    }
}

/// <summary>The run statuses OpenAI names, over the job's.</summary>
public static class RunStatus
{
    public const string Queued = "queued";
    public const string InProgress = "in_progress";
    public const string Cancelling = "cancelling";
    public const string Cancelled = "cancelled";
    public const string Failed = "failed";
    public const string Completed = "completed";
    public const string Incomplete = "incomplete";
    public const string RequiresAction = "requires_action";
    public const string Expired = "expired";

    /// <summary>Whether the run still holds its thread (no new message or run meanwhile).</summary>
    public static bool IsActive(string status) => status is Queued or InProgress or Cancelling or RequiresAction;

    public static string Of(string runStatus, string jobStatus, bool cancelRequested, DateTimeOffset? expiresAt, DateTimeOffset now) =>
        runStatus == RequiresAction && expiresAt <= now ? Expired : Of(runStatus, jobStatus, cancelRequested);

    public static string Of(string runStatus, string jobStatus, bool cancelRequested) => runStatus != Queued ? runStatus : jobStatus switch
    {
        Jobs.JobStatus.Cancelled => Cancelled,
        Jobs.JobStatus.Failed => Failed,
        _ when cancelRequested => Cancelling,
        Jobs.JobStatus.Running => InProgress,
        Jobs.JobStatus.Succeeded => Completed,
        _ => Queued,
    };
}
