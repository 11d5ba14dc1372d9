using System.Text.Json;
using AiPrompts.Core.Assistants;
using AiPrompts.Core.Jobs;

namespace AiPrompts.Api.Assistants;

/// <summary>A run with its job: the status OpenAI names, its timestamps and its error.</summary>
internal sealed record RunView(AssistantRun Run, Job Job, DateTimeOffset Now)
{
    public string Status => RunStatus.Of(Run.Status, Job.Status, Job.CancelRequested, Run.ExpiresAt, Now);

    /// <summary>The run as OpenAI shows it; a stream may name the status it announces (in_progress before the row says so).</summary>
    public RunObject View(string? announced = null)
    {
        var status = announced ?? Status;
        static long? Unix(DateTimeOffset? at) => at?.ToUnixTimeSeconds();
        return new RunObject(
            OpenAIIds.Of(OpenAIIds.Run, Run.Id), "thread.run", Run.CreatedAt.ToUnixTimeSeconds(), OpenAIIds.Of(OpenAIIds.Assistant, Run.AssistantId),
            OpenAIIds.Of(OpenAIIds.Thread, Run.ThreadId), status,
            StartedAt: Unix(Job.StartedAt), ExpiresAt: status is RunStatus.RequiresAction or RunStatus.Expired ? Unix(Run.ExpiresAt) : null,
            CancelledAt: status == RunStatus.Cancelled ? Unix(Job.FinishedAt) : null,
            FailedAt: status == RunStatus.Failed ? Unix(Job.FinishedAt) : null,
            CompletedAt: status is RunStatus.Completed or RunStatus.Incomplete ? Unix(Run.CompletedAt) : null,
            RequiredAction: status == RunStatus.RequiresAction && Run.RequiredAction is { } action ? JsonDocument.Parse(action).RootElement.Clone() : null,
            LastError: status == RunStatus.Failed
                ? new RunError(Job.LastErrorCode is "vendor_rate_limited" ? "rate_limit_exceeded" : "server_error", Job.LastErrorMessage ?? Job.LastErrorCode ?? "The run failed.")
                : null,
            IncompleteDetails: status == RunStatus.Incomplete ? new RunIncomplete("max_completion_tokens") : null,
            Model: Run.ModelId, Instructions: Run.Instructions ?? "",
            Tools: JsonSerializer.Deserialize<List<JsonElement>>(Run.Tools) ?? [],
            Metadata: JsonSerializer.Deserialize<Dictionary<string, string>>(Run.Metadata) ?? [],
            Usage: Run.PromptTokens is { } prompt ? new RunUsage(prompt, Run.CompletionTokens ?? 0, prompt + (Run.CompletionTokens ?? 0)) : null,
            Temperature: Run.Temperature, TopP: Run.TopP, MaxPromptTokens: Run.MaxPromptTokens, MaxCompletionTokens: Run.MaxCompletionTokens,
            TruncationStrategy: Run.LastMessages is { } last ? new TruncationStrategy("last_messages", last) : new TruncationStrategy("auto", null), ResponseFormat: "auto", ToolChoice: "auto", ParallelToolCalls: true);
    }

    public string? ErrorCode => Job.LastErrorCode;

    public IReadOnlyDictionary<string, string>? ErrorArgs =>
        Job.LastErrorArgs is { } args ? JsonSerializer.Deserialize<Dictionary<string, string>>(args) : null;
}

/// <summary>Threads, messages and lists as OpenAI shows them.</summary>
internal static class ThreadViews
{
    public static ThreadObject View(AssistantThread thread) => new(
        OpenAIIds.Of(OpenAIIds.Thread, thread.Id), "thread", thread.CreatedAt.ToUnixTimeSeconds(),
        JsonSerializer.Deserialize<Dictionary<string, string>>(thread.Metadata) ?? [], []);

    public static MessageObject View(ThreadMessage message) => new(
        OpenAIIds.Of(OpenAIIds.Message, message.Id), "thread.message", message.CreatedAt.ToUnixTimeSeconds(), OpenAIIds.Of(OpenAIIds.Thread, message.ThreadId),
        message.Role, [new MessageContent("text", new MessageText(message.Text, []))],
        message.AssistantId is { } assistant ? OpenAIIds.Of(OpenAIIds.Assistant, assistant) : null,
        message.RunId is { } run ? OpenAIIds.Of(OpenAIIds.Run, run) : null,
        [], JsonSerializer.Deserialize<Dictionary<string, string>>(message.Metadata) ?? [], "completed", message.CreatedAt.ToUnixTimeSeconds());

    public static ListObject<T> List<T>(IReadOnlyList<T> items, bool more, Func<T, string> id) =>
        new("list", items, items.Count > 0 ? id(items[0]) : null, items.Count > 0 ? id(items[^1]) : null, more);
}
