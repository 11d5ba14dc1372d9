using AiPrompts.Core.Assistants;

namespace AiPrompts.Api.Assistants;

/// <summary>
/// A run's steps as OpenAI shows them, read from what the run keeps: one <c>tool_calls</c> step per round of
/// function calls (with the outputs submitted for it), the round it waits for, then the
/// <c>message_creation</c> step of its answer. Step ids are the run's id and the step's place
/// (<c>step_</c> + 32 + 4 hex digits), so they stay the same from one read to the next.
/// </summary>
internal static class RunSteps
{
    public const string Prefix = "step_";

    public static string Id(Guid runId, int index) => $"{Prefix}{runId:N}{index:x4}";

    /// <summary>The place of a step of this run, from its id.</summary>
    public static bool TryParse(string? text, Guid runId, out int index)
    {
        index = -1;
        return text is not null && text.Length == Prefix.Length + 36 && text.StartsWith(Prefix + runId.ToString("N"), StringComparison.Ordinal)
            && int.TryParse(text.AsSpan(Prefix.Length + 32), System.Globalization.NumberStyles.AllowHexSpecifier, null, out index);
    }

    /// <summary>Every step of the run so far, oldest first.</summary>
    public static List<RunStepObject> Of(RunView run, ThreadMessage? answer)
    {
        var created = run.Run.CreatedAt.ToUnixTimeSeconds();
        var steps = ToolRounds.Read(run.Run.ToolRounds)
            .Select((round, i) => ToolCalls(run, i, "completed", round.Calls, round.CreatedAt ?? created, round.CompletedAt ?? created))
            .ToList();
        var status = run.Status;
        if (run.Run.RequiredAction is not null && run.Run.ExpiresAt is { } expires)
        {
            steps.Add(ToolCalls(run, steps.Count, status == RunStatus.Expired ? "expired" : "in_progress", ToolRounds.Pending(run.Run.RequiredAction),
                (expires - ToolRounds.OutputsWindow).ToUnixTimeSeconds(), null));
        }
        else if (answer is not null)
        {
            steps.Add(Message(run, "completed", answer.CreatedAt.ToUnixTimeSeconds()));
        }
        else if (run.Job.StartedAt is { } started)
        {
            // The answer is being written, or the run ended before it was.
            steps.Add(Message(run, status switch
            {
                RunStatus.Failed => "failed",
                RunStatus.Cancelled => "cancelled",
                _ => "in_progress",
            }, started.ToUnixTimeSeconds()));
        }
        return steps;
    }

    /// <summary>The step that writes the run's answer (the message whose id is the run's), in this status.</summary>
    public static RunStepObject Message(RunView run, string status, long createdAt)
    {
        var ended = run.Run.CompletedAt ?? run.Job.FinishedAt;
        long? At(string when) => status == when ? ended?.ToUnixTimeSeconds() ?? createdAt : null;
        var view = status is "failed" or "completed" ? run.View() : null; // its error or its usage
        return Step(run, ToolRounds.Read(run.Run.ToolRounds).Count, createdAt, "message_creation", status, At("cancelled"), At("completed"), null, At("failed"),
            view?.LastError, new StepDetails("message_creation", MessageCreation: new StepMessageCreation(OpenAIIds.Of(OpenAIIds.Message, run.Run.Id))),
            status == "completed" ? view!.Usage : null);
    }

    /// <summary>A round of function calls: waiting for its outputs (in_progress), expired, or completed with them.</summary>
    public static RunStepObject ToolCalls(RunView run, int index, string status, IReadOnlyList<ToolRounds.ToolCall> calls, long createdAt, long? completedAt) =>
        Step(run, index, createdAt, "tool_calls", status, null, status == "completed" ? completedAt : null,
            status == "expired" ? run.Run.ExpiresAt?.ToUnixTimeSeconds() : null, null, null,
            new StepDetails("tool_calls", ToolCalls: [.. calls.Select(c => new StepToolCall(c.Id, "function", new StepFunction(c.Name, c.Arguments, c.Output)))]), null);

    private static RunStepObject Step(RunView run, int index, long createdAt, string type, string status, long? cancelledAt, long? completedAt, long? expiredAt, long? failedAt,
        RunError? error, StepDetails details, RunUsage? usage) => new(
        Id(run.Run.Id, index), "thread.run.step", createdAt, OpenAIIds.Of(OpenAIIds.Run, run.Run.Id), OpenAIIds.Of(OpenAIIds.Assistant, run.Run.AssistantId),
        OpenAIIds.Of(OpenAIIds.Thread, run.Run.ThreadId), type, status, cancelledAt, completedAt, expiredAt, failedAt, error, details, usage, []);
}
