using System.Text.Json;
using System.Text.Json.Serialization;

namespace AiPrompts.Api.Assistants;

// The OpenAI Assistants v2 wire format (snake_case, Unix-second timestamps, OpenAI object names and id
// prefixes), which the Korean document's clients and the official OpenAI SDKs read.

/// <summary><c>POST /api/v1/chat</c>: the Korean document's one-call shortcut.</summary>
public sealed record ChatRequest(
    [property: JsonPropertyName("message")] string? Message,
    [property: JsonPropertyName("thread_id")] string? ThreadId = null);

public sealed record ChatAnswer(
    [property: JsonPropertyName("message")] string Message,
    [property: JsonPropertyName("thread_id")] string ThreadId,
    [property: JsonPropertyName("role")] string Role,
    [property: JsonPropertyName("created_at")] long CreatedAt);

public sealed record ThreadCreate(
    [property: JsonPropertyName("messages")] List<MessageCreate>? Messages = null,
    [property: JsonPropertyName("metadata")] Dictionary<string, string>? Metadata = null);

public sealed record ThreadModify([property: JsonPropertyName("metadata")] Dictionary<string, string>? Metadata = null);

public sealed record ThreadObject(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("object")] string Object,
    [property: JsonPropertyName("created_at")] long CreatedAt,
    [property: JsonPropertyName("metadata")] Dictionary<string, string> Metadata,
    [property: JsonPropertyName("tool_resources")] Dictionary<string, JsonElement> ToolResources);

/// <summary>A message to add: <c>content</c> is a string or a list of <c>{"type": "text", "text": "…"}</c> parts.</summary>
public sealed record MessageCreate(
    [property: JsonPropertyName("role")] string? Role,
    [property: JsonPropertyName("content")] JsonElement? Content,
    [property: JsonPropertyName("metadata")] Dictionary<string, string>? Metadata = null);

public sealed record MessageText(
    [property: JsonPropertyName("value")] string Value,
    [property: JsonPropertyName("annotations")] IReadOnlyList<JsonElement> Annotations);

public sealed record MessageContent(
    [property: JsonPropertyName("type")] string Type,
    [property: JsonPropertyName("text")] MessageText Text);

public sealed record MessageObject(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("object")] string Object,
    [property: JsonPropertyName("created_at")] long CreatedAt,
    [property: JsonPropertyName("thread_id")] string ThreadId,
    [property: JsonPropertyName("role")] string Role,
    [property: JsonPropertyName("content")] IReadOnlyList<MessageContent> Content,
    [property: JsonPropertyName("assistant_id")] string? AssistantId,
    [property: JsonPropertyName("run_id")] string? RunId,
    [property: JsonPropertyName("attachments")] IReadOnlyList<JsonElement> Attachments,
    [property: JsonPropertyName("metadata")] Dictionary<string, string> Metadata,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("completed_at")] long? CompletedAt);

public sealed record ListObject<T>(
    [property: JsonPropertyName("object")] string Object,
    [property: JsonPropertyName("data")] IReadOnlyList<T> Data,
    [property: JsonPropertyName("first_id")] string? FirstId,
    [property: JsonPropertyName("last_id")] string? LastId,
    [property: JsonPropertyName("has_more")] bool HasMore);

public sealed record RunCreate(
    [property: JsonPropertyName("assistant_id")] string? AssistantId = null,
    [property: JsonPropertyName("model")] string? Model = null,
    [property: JsonPropertyName("instructions")] string? Instructions = null,
    [property: JsonPropertyName("additional_instructions")] string? AdditionalInstructions = null,
    [property: JsonPropertyName("temperature")] float? Temperature = null,
    [property: JsonPropertyName("top_p")] float? TopP = null,
    [property: JsonPropertyName("max_completion_tokens")] int? MaxCompletionTokens = null,
    [property: JsonPropertyName("metadata")] Dictionary<string, string>? Metadata = null,
    [property: JsonPropertyName("stream")] bool? Stream = null,
    [property: JsonPropertyName("additional_messages")] List<MessageCreate>? AdditionalMessages = null,
    [property: JsonPropertyName("max_prompt_tokens")] int? MaxPromptTokens = null,
    [property: JsonPropertyName("truncation_strategy")] TruncationStrategy? TruncationStrategy = null);

/// <summary><c>POST /api/v1/threads/runs</c>: a thread (with its messages) and a run on it, in one call.</summary>
public sealed record ThreadAndRunCreate(
    [property: JsonPropertyName("assistant_id")] string? AssistantId = null,
    [property: JsonPropertyName("thread")] ThreadCreate? Thread = null,
    [property: JsonPropertyName("model")] string? Model = null,
    [property: JsonPropertyName("instructions")] string? Instructions = null,
    [property: JsonPropertyName("temperature")] float? Temperature = null,
    [property: JsonPropertyName("top_p")] float? TopP = null,
    [property: JsonPropertyName("max_completion_tokens")] int? MaxCompletionTokens = null,
    [property: JsonPropertyName("metadata")] Dictionary<string, string>? Metadata = null,
    [property: JsonPropertyName("stream")] bool? Stream = null);

public sealed record MessageModify([property: JsonPropertyName("metadata")] Dictionary<string, string>? Metadata = null);

public sealed record ToolOutput(
    [property: JsonPropertyName("tool_call_id")] string? ToolCallId,
    [property: JsonPropertyName("output")] string? Output);

public sealed record ToolOutputsSubmit(
    [property: JsonPropertyName("tool_outputs")] List<ToolOutput>? ToolOutputs,
    [property: JsonPropertyName("stream")] bool? Stream = null);

public sealed record RunError(
    [property: JsonPropertyName("code")] string Code,
    [property: JsonPropertyName("message")] string Message);

public sealed record RunUsage(
    [property: JsonPropertyName("prompt_tokens")] long PromptTokens,
    [property: JsonPropertyName("completion_tokens")] long CompletionTokens,
    [property: JsonPropertyName("total_tokens")] long TotalTokens);

public sealed record RunIncomplete([property: JsonPropertyName("reason")] string Reason);

public sealed record TruncationStrategy(
    [property: JsonPropertyName("type")] string? Type,
    [property: JsonPropertyName("last_messages")] int? LastMessages = null);

public sealed record RunObject(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("object")] string Object,
    [property: JsonPropertyName("created_at")] long CreatedAt,
    [property: JsonPropertyName("assistant_id")] string AssistantId,
    [property: JsonPropertyName("thread_id")] string ThreadId,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("started_at")] long? StartedAt,
    [property: JsonPropertyName("expires_at")] long? ExpiresAt,
    [property: JsonPropertyName("cancelled_at")] long? CancelledAt,
    [property: JsonPropertyName("failed_at")] long? FailedAt,
    [property: JsonPropertyName("completed_at")] long? CompletedAt,
    [property: JsonPropertyName("required_action")] JsonElement? RequiredAction,
    [property: JsonPropertyName("last_error")] RunError? LastError,
    [property: JsonPropertyName("incomplete_details")] RunIncomplete? IncompleteDetails,
    [property: JsonPropertyName("model")] string Model,
    [property: JsonPropertyName("instructions")] string Instructions,
    [property: JsonPropertyName("tools")] IReadOnlyList<JsonElement> Tools,
    [property: JsonPropertyName("metadata")] Dictionary<string, string> Metadata,
    [property: JsonPropertyName("usage")] RunUsage? Usage,
    [property: JsonPropertyName("temperature")] float? Temperature,
    [property: JsonPropertyName("top_p")] float? TopP,
    [property: JsonPropertyName("max_prompt_tokens")] int? MaxPromptTokens,
    [property: JsonPropertyName("max_completion_tokens")] int? MaxCompletionTokens,
    [property: JsonPropertyName("truncation_strategy")] TruncationStrategy TruncationStrategy,
    [property: JsonPropertyName("response_format")] string ResponseFormat,
    [property: JsonPropertyName("tool_choice")] string ToolChoice,
    [property: JsonPropertyName("parallel_tool_calls")] bool ParallelToolCalls);

public sealed record DeletedObject(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("object")] string Object,
    [property: JsonPropertyName("deleted")] bool Deleted);

/// <summary>A step of a run: a round of tool calls, or the creation of the answer message.</summary>
public sealed record RunStepObject(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("object")] string Object,
    [property: JsonPropertyName("created_at")] long CreatedAt,
    [property: JsonPropertyName("run_id")] string RunId,
    [property: JsonPropertyName("assistant_id")] string AssistantId,
    [property: JsonPropertyName("thread_id")] string ThreadId,
    [property: JsonPropertyName("type")] string Type,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("cancelled_at")] long? CancelledAt,
    [property: JsonPropertyName("completed_at")] long? CompletedAt,
    [property: JsonPropertyName("expired_at")] long? ExpiredAt,
    [property: JsonPropertyName("failed_at")] long? FailedAt,
    [property: JsonPropertyName("last_error")] RunError? LastError,
    [property: JsonPropertyName("step_details")] StepDetails StepDetails,
    [property: JsonPropertyName("usage")] RunUsage? Usage,
    [property: JsonPropertyName("metadata")] Dictionary<string, string> Metadata);

/// <summary><c>message_creation</c> with the message's id, or <c>tool_calls</c> with each call (and its output once given).</summary>
public sealed record StepDetails(
    [property: JsonPropertyName("type")] string Type,
    [property: JsonPropertyName("message_creation"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] StepMessageCreation? MessageCreation = null,
    [property: JsonPropertyName("tool_calls"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<StepToolCall>? ToolCalls = null);

public sealed record StepMessageCreation([property: JsonPropertyName("message_id")] string MessageId);

public sealed record StepToolCall(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("type")] string Type,
    [property: JsonPropertyName("function")] StepFunction Function);

public sealed record StepFunction(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("arguments")] string Arguments,
    [property: JsonPropertyName("output")] string? Output);
