using System.Text.Json;
using System.Text.Json.Serialization;

namespace AiPrompts.Api.Gateway;

// The OpenAI wire format of what callers send, as OpenAI names it (snake_case). Answers are written by the OpenAI SDK's own
// models (ModelReaderWriter), so they are exactly what every OpenAI client reads.

/// <summary>A chat completion request (<c>POST /openai/v1/chat/completions</c>).</summary>
public sealed record ChatCompletionRequest(
    [property: JsonPropertyName("model")] string? Model,
    [property: JsonPropertyName("messages")] IReadOnlyList<ChatCompletionMessage?>? Messages,
    [property: JsonPropertyName("stream")] bool? Stream = null,
    [property: JsonPropertyName("stream_options")] ChatStreamOptions? StreamOptions = null,
    [property: JsonPropertyName("tools")] IReadOnlyList<ChatTool?>? Tools = null,
    [property: JsonPropertyName("tool_choice")] JsonElement? ToolChoice = null,
    [property: JsonPropertyName("parallel_tool_calls")] bool? ParallelToolCalls = null,
    [property: JsonPropertyName("response_format")] ChatResponseFormatSpec? ResponseFormat = null,
    [property: JsonPropertyName("max_tokens")] int? MaxTokens = null,
    [property: JsonPropertyName("max_completion_tokens")] int? MaxCompletionTokens = null,
    [property: JsonPropertyName("temperature")] float? Temperature = null,
    [property: JsonPropertyName("top_p")] float? TopP = null,
    [property: JsonPropertyName("presence_penalty")] float? PresencePenalty = null,
    [property: JsonPropertyName("frequency_penalty")] float? FrequencyPenalty = null,
    [property: JsonPropertyName("seed")] long? Seed = null,
    [property: JsonPropertyName("stop")] JsonElement? Stop = null,
    [property: JsonPropertyName("n")] int? N = null,
    [property: JsonPropertyName("user")] string? User = null,
    [property: JsonPropertyName("store")] bool? Store = null,
    [property: JsonPropertyName("metadata")] IReadOnlyDictionary<string, string>? Metadata = null);

/// <summary>One message: <c>content</c> is a string or an array of parts (<c>text</c>, <c>image_url</c>).</summary>
public sealed record ChatCompletionMessage(
    [property: JsonPropertyName("role")] string? Role,
    [property: JsonPropertyName("content")] JsonElement? Content = null,
    [property: JsonPropertyName("name")] string? Name = null,
    [property: JsonPropertyName("tool_calls")] IReadOnlyList<ChatToolCall?>? ToolCalls = null,
    [property: JsonPropertyName("tool_call_id")] string? ToolCallId = null);

public sealed record ChatToolCall(
    [property: JsonPropertyName("id")] string? Id,
    [property: JsonPropertyName("type")] string? Type,
    [property: JsonPropertyName("function")] ChatFunctionCall? Function);

public sealed record ChatFunctionCall(
    [property: JsonPropertyName("name")] string? Name,
    [property: JsonPropertyName("arguments")] string? Arguments);

public sealed record ChatTool(
    [property: JsonPropertyName("type")] string? Type,
    [property: JsonPropertyName("function")] ChatFunctionSpec? Function);

public sealed record ChatFunctionSpec(
    [property: JsonPropertyName("name")] string? Name,
    [property: JsonPropertyName("description")] string? Description = null,
    [property: JsonPropertyName("parameters")] JsonElement? Parameters = null,
    [property: JsonPropertyName("strict")] bool? Strict = null);

public sealed record ChatStreamOptions([property: JsonPropertyName("include_usage")] bool? IncludeUsage = null);

/// <summary><c>{"type": "text" | "json_object" | "json_schema", "json_schema": {name, description, schema, strict}}</c>.</summary>
public sealed record ChatResponseFormatSpec(
    [property: JsonPropertyName("type")] string? Type,
    [property: JsonPropertyName("json_schema")] JsonSchemaSpec? JsonSchema = null);

public sealed record JsonSchemaSpec(
    [property: JsonPropertyName("name")] string? Name,
    [property: JsonPropertyName("description")] string? Description = null,
    [property: JsonPropertyName("schema")] JsonElement? Schema = null,
    [property: JsonPropertyName("strict")] bool? Strict = null);

/// <summary>An embeddings request (<c>POST /openai/v1/embeddings</c>): <c>input</c> is a string or an array of strings.</summary>
public sealed record EmbeddingRequest(
    [property: JsonPropertyName("model")] string? Model,
    [property: JsonPropertyName("input")] JsonElement? Input,
    [property: JsonPropertyName("encoding_format")] string? EncodingFormat = null,
    [property: JsonPropertyName("dimensions")] int? Dimensions = null,
    [property: JsonPropertyName("user")] string? User = null);

public sealed record EmbeddingList(
    [property: JsonPropertyName("object")] string Object,
    [property: JsonPropertyName("data")] IReadOnlyList<EmbeddingItem> Data,
    [property: JsonPropertyName("model")] string Model,
    [property: JsonPropertyName("usage")] EmbeddingUsage Usage);

/// <summary>One vector: an array of numbers, or their float32 little-endian bytes in base64 (<c>encoding_format: base64</c>, what the SDKs ask for).</summary>
public sealed record EmbeddingItem(
    [property: JsonPropertyName("object")] string Object,
    [property: JsonPropertyName("index")] int Index,
    [property: JsonPropertyName("embedding")] object Embedding);

public sealed record EmbeddingUsage(
    [property: JsonPropertyName("prompt_tokens")] long PromptTokens,
    [property: JsonPropertyName("total_tokens")] long TotalTokens);

/// <summary>A model the caller may use, as <c>provider/model</c>.</summary>
public sealed record GatewayModel(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("object")] string Object,
    [property: JsonPropertyName("created")] long Created,
    [property: JsonPropertyName("owned_by")] string OwnedBy);

public sealed record GatewayModelList(
    [property: JsonPropertyName("object")] string Object,
    [property: JsonPropertyName("data")] IReadOnlyList<GatewayModel> Data);

/// <summary>
/// A Responses API request. <c>input</c> is a text or an array of items; <c>conversation</c> a conversation id or
/// <c>{"id"}</c>; <c>background: true</c> runs it on the Worker (answered <c>queued</c>; poll, stream or cancel it).
/// </summary>
public sealed record ResponseCreateRequest(
    [property: JsonPropertyName("model")] string? Model,
    [property: JsonPropertyName("input")] JsonElement? Input = null,
    [property: JsonPropertyName("instructions")] string? Instructions = null,
    [property: JsonPropertyName("tools")] JsonElement? Tools = null,
    [property: JsonPropertyName("tool_choice")] JsonElement? ToolChoice = null,
    [property: JsonPropertyName("text")] JsonElement? Text = null,
    [property: JsonPropertyName("max_output_tokens")] int? MaxOutputTokens = null,
    [property: JsonPropertyName("temperature")] float? Temperature = null,
    [property: JsonPropertyName("top_p")] float? TopP = null,
    [property: JsonPropertyName("metadata")] IReadOnlyDictionary<string, string>? Metadata = null,
    [property: JsonPropertyName("store")] bool? Store = null,
    [property: JsonPropertyName("stream")] bool? Stream = null,
    [property: JsonPropertyName("previous_response_id")] string? PreviousResponseId = null,
    [property: JsonPropertyName("conversation")] JsonElement? Conversation = null,
    [property: JsonPropertyName("prompt")] ResponsePromptSpec? Prompt = null,
    [property: JsonPropertyName("background")] bool? Background = null);

/// <summary>One of our versioned templates: its prompt type, a version number (the active version when left out), its variables.</summary>
public sealed record ResponsePromptSpec(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("version")] JsonElement? Version = null,
    [property: JsonPropertyName("variables")] IReadOnlyDictionary<string, JsonElement>? Variables = null);

/// <summary>A new conversation: up to 20 first items (OpenAI's item form) and metadata.</summary>
public sealed record ConversationCreateRequest(
    [property: JsonPropertyName("items")] IReadOnlyList<JsonElement>? Items = null,
    [property: JsonPropertyName("metadata")] IReadOnlyDictionary<string, string>? Metadata = null);

public sealed record ConversationUpdateRequest([property: JsonPropertyName("metadata")] IReadOnlyDictionary<string, string>? Metadata);

public sealed record ConversationItemsRequest([property: JsonPropertyName("items")] IReadOnlyList<JsonElement>? Items);

// What the surface answers, as OpenAI documents it: these records describe the bodies for the OpenAPI document (the
// writers produce them as JSON directly), and the gateway tests check every answer the SDKs get against them.

/// <summary>A chat completion (<c>chat.completion</c>); a stream sends <c>chat.completion.chunk</c> objects of the same head.</summary>
public sealed record ChatCompletionObject(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("object")] string Object,
    [property: JsonPropertyName("created")] long Created,
    [property: JsonPropertyName("model")] string Model,
    [property: JsonPropertyName("system_fingerprint")] string? SystemFingerprint,
    [property: JsonPropertyName("choices")] IReadOnlyList<ChatCompletionChoice> Choices,
    [property: JsonPropertyName("usage")] ChatCompletionUsage Usage);

public sealed record ChatCompletionChoice(
    [property: JsonPropertyName("index")] int Index,
    [property: JsonPropertyName("message")] ChatCompletionMessage Message,
    [property: JsonPropertyName("logprobs")] JsonElement? Logprobs,
    [property: JsonPropertyName("finish_reason")] string FinishReason);

public sealed record ChatCompletionUsage(
    [property: JsonPropertyName("prompt_tokens")] long PromptTokens,
    [property: JsonPropertyName("completion_tokens")] long CompletionTokens,
    [property: JsonPropertyName("total_tokens")] long TotalTokens,
    [property: JsonPropertyName("prompt_tokens_details")] CachedTokens PromptTokensDetails,
    [property: JsonPropertyName("completion_tokens_details")] ReasoningTokens CompletionTokensDetails);

public sealed record CachedTokens([property: JsonPropertyName("cached_tokens")] long Cached);

public sealed record ReasoningTokens([property: JsonPropertyName("reasoning_tokens")] long Reasoning);

/// <summary>A response (<c>response</c>): what create, retrieve and cancel answer; <c>output</c> holds messages and function calls in OpenAI's item form.</summary>
public sealed record ResponseObject(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("object")] string Object,
    [property: JsonPropertyName("created_at")] long CreatedAt,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("background")] bool Background,
    [property: JsonPropertyName("error")] ResponseError? Error,
    [property: JsonPropertyName("incomplete_details")] ResponseIncompleteDetails? IncompleteDetails,
    [property: JsonPropertyName("instructions")] string? Instructions,
    [property: JsonPropertyName("max_output_tokens")] int? MaxOutputTokens,
    [property: JsonPropertyName("model")] string Model,
    [property: JsonPropertyName("output")] IReadOnlyList<JsonElement> Output,
    [property: JsonPropertyName("parallel_tool_calls")] bool ParallelToolCalls,
    [property: JsonPropertyName("previous_response_id")] string? PreviousResponseId,
    [property: JsonPropertyName("conversation")] ConversationReference? Conversation,
    [property: JsonPropertyName("store")] bool Store,
    [property: JsonPropertyName("temperature")] double Temperature,
    [property: JsonPropertyName("top_p")] double TopP,
    [property: JsonPropertyName("text")] JsonElement Text,
    [property: JsonPropertyName("tool_choice")] JsonElement ToolChoice,
    [property: JsonPropertyName("tools")] IReadOnlyList<JsonElement> Tools,
    [property: JsonPropertyName("truncation")] string Truncation,
    [property: JsonPropertyName("usage")] ResponseUsage? Usage,
    [property: JsonPropertyName("user")] string? User,
    [property: JsonPropertyName("metadata")] IReadOnlyDictionary<string, string> Metadata,
    [property: JsonPropertyName("prompt")] ResponsePromptReference? Prompt = null);

/// <summary>Why a response failed: our stable code and a message in the caller's language.</summary>
public sealed record ResponseError([property: JsonPropertyName("code")] string Code, [property: JsonPropertyName("message")] string Message);

public sealed record ResponseIncompleteDetails([property: JsonPropertyName("reason")] string Reason);

public sealed record ConversationReference([property: JsonPropertyName("id")] string Id);

public sealed record ResponseUsage(
    [property: JsonPropertyName("input_tokens")] long InputTokens,
    [property: JsonPropertyName("input_tokens_details")] CachedTokens InputTokensDetails,
    [property: JsonPropertyName("output_tokens")] long OutputTokens,
    [property: JsonPropertyName("output_tokens_details")] ReasoningTokens OutputTokensDetails,
    [property: JsonPropertyName("total_tokens")] long TotalTokens);

/// <summary>The template that ran: its prompt type, the version (as a string, as OpenAI writes it) and the variables.</summary>
public sealed record ResponsePromptReference(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("version")] string? Version,
    [property: JsonPropertyName("variables")] IReadOnlyDictionary<string, JsonElement> Variables);

/// <summary>What a deletion answers (<c>response.deleted</c>, <c>conversation.deleted</c>).</summary>
public sealed record DeletedObject(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("object")] string Object,
    [property: JsonPropertyName("deleted")] bool Deleted);

/// <summary>A conversation (<c>conversation</c>).</summary>
public sealed record ConversationObject(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("object")] string Object,
    [property: JsonPropertyName("created_at")] long CreatedAt,
    [property: JsonPropertyName("metadata")] IReadOnlyDictionary<string, string> Metadata);

/// <summary>A page of items (a response's input items, a conversation's items), in OpenAI's item form.</summary>
public sealed record ItemList(
    [property: JsonPropertyName("object")] string Object,
    [property: JsonPropertyName("data")] IReadOnlyList<JsonElement> Data,
    [property: JsonPropertyName("first_id")] string? FirstId,
    [property: JsonPropertyName("last_id")] string? LastId,
    [property: JsonPropertyName("has_more")] bool HasMore);
