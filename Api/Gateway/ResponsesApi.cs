using System.Text.Json;
using System.Text.Json.Nodes;
using AiPrompts.Api.Auth;
using AiPrompts.Api.Errors;
using AiPrompts.Api.Input;
using AiPrompts.Core.Errors;
using AiPrompts.Core.Gateway;
using AiPrompts.Core.Providers;
using AiPrompts.Core.Vendors;
using Microsoft.Extensions.AI;
using Npgsql;
using NpgsqlTypes;

namespace AiPrompts.Api.Gateway;

/// <summary>
/// <c>/openai/v1/responses</c>: create (whole or streamed, with <c>previous_response_id</c> and <c>prompt</c> templates),
/// retrieve, delete, and a response's input items. Stored responses are their owner's alone (anyone else gets 404).
/// </summary>
internal static class ResponsesApi
{
    public static RouteGroupBuilder MapResponses(this RouteGroupBuilder group)
    {
        group.MapPost("/responses", CreateAsync).WithName("CreateResponse")
            .Produces(StatusCodes.Status200OK, contentType: "application/json").Produces(StatusCodes.Status200OK, contentType: "text/event-stream")
            .WithSummary("A model response (Responses API), whole or streamed; prompt: {id, version, variables} runs one of our versioned templates");
        group.MapGet("/responses/{id}", GetAsync).WithName("GetResponse").WithSummary("One of my stored responses");
        group.MapDelete("/responses/{id}", DeleteAsync).WithName("DeleteResponse").WithSummary("Delete one of my stored responses");
        group.MapGet("/responses/{id}/input_items", InputItemsAsync).WithName("ListResponseInputItems").WithSummary("A stored response's input items (order, after, limit)");
        return group;
    }

    internal static async Task<IResult> CreateAsync(
        ResponseCreateRequest request, HttpContext http, GatewayAdmission admission, VendorClientPool vendors, NpgsqlDataSource data, ResponsePrompts templates, ConversationStore conversations,
        TimeProvider time, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        // The contract's record documents the body; the checks read it as JSON, to tell a text input from items.
        var body = JsonSerializer.SerializeToElement(request);
        if (ResponseInput.From(body, NewId, errors) is not { } input)
        {
            return ApiProblem.Validation(errors);
        }
        var caller = http.User.AiCaller();
        var context = new List<ChatMessage>();
        if (input.PreviousResponseId is { } previous)
        {
            var chain = await ChainAsync(data, previous, caller.UserId, cancellationToken);
            if (chain is null)
            {
                return ApiProblem.Of(ErrorCode.NotFound);
            }
            context.AddRange(ResponseInput.Messages(chain));
        }
        if (input.ConversationId is { } conversation)
        {
            var items = await conversations.AllItemsAsync(conversation, caller.UserId, cancellationToken);
            if (items is null)
            {
                return ApiProblem.Of(ErrorCode.NotFound);
            }
            context.AddRange(ResponseInput.Messages(items));
        }
        int? templateVersion = null;
        if (input.Prompt is { } prompt)
        {
            var (text, version, refusal) = await templates.RenderAsync(prompt, cancellationToken);
            if (refusal is not null)
            {
                return refusal;
            }
            templateVersion = version;
            // The template is the user's message when the request has no input, else a developer message before it.
            var item = input.Items.Count == 0 ? ResponseInput.UserMessage(text!, NewId("msg")) : DeveloperMessage(text!);
            input.Items.Insert(0, item);
        }
        context.AddRange(ResponseInput.Messages(input.Items));
        input.Options.Instructions = input.Instructions;

        var required = new List<string> { Capabilities.Chat };
        if (input.Options.Tools is { Count: > 0 })
        {
            required.Add(Capabilities.Tools);
        }
        if (input.Options.ResponseFormat is ChatResponseFormatJson json)
        {
            required.Add(json.Schema is null ? Capabilities.Json : Capabilities.JsonSchema);
        }
        var characters = context.Sum(m => (long)m.Text.Length) + (input.Instructions?.Length ?? 0);
        var purpose = input.Metadata.GetValueOrDefault("purpose");
        var (call, refused) = await admission.BeginAsync(http, new GatewayAsk(GatewaySurfaces.Response, required, Sections.Chat, input.Model, characters, input.Options.MaxOutputTokens, purpose), cancellationToken);
        if (call is null)
        {
            return refused!;
        }
        var id = $"resp_{call.Id:N}";
        var created = time.GetUtcNow().ToUnixTimeSeconds();
        var client = vendors.Chat(call.Target);
        var run = new ResponseRun(id, created, call, input, templateVersion, data, time);
        if (input.Stream)
        {
            return await new ResponseStream(run, client).StartAsync(context, input.Options, http, cancellationToken);
        }
        var (response, failed) = await call.CallAsync(token => client.GetResponseAsync(context, input.Options, token), cancellationToken);
        if (response is null)
        {
            return failed!;
        }
        call.Succeeded(MeteredUsage.From(response.AdditionalProperties));
        var output = ResponseWriter.Output(response.Text, [.. response.Messages.SelectMany(m => m.Contents).OfType<FunctionCallContent>()], NewId);
        var answer = run.Completed(output, response.Usage, response.FinishReason);
        await run.StoreAsync(answer, CancellationToken.None);
        call.AnswerReady();
        return TypedResults.Text(answer.ToJsonString(), "application/json");
    }

    internal static async Task<IResult> GetAsync(string id, HttpContext http, NpgsqlDataSource data, CancellationToken cancellationToken)
    {
        await using var command = data.CreateCommand("SELECT body::text FROM gateway_responses WHERE id = $1 AND user_id = $2");
        command.Parameters.Add(new() { Value = id });
        command.Parameters.Add(new() { Value = http.User.AiCaller().UserId });
        return await command.ExecuteScalarAsync(cancellationToken) is string body ? TypedResults.Text(body, "application/json") : ApiProblem.Of(ErrorCode.NotFound);
    }

    internal static async Task<IResult> DeleteAsync(string id, HttpContext http, NpgsqlDataSource data, CancellationToken cancellationToken)
    {
        await using var command = data.CreateCommand("DELETE FROM gateway_responses WHERE id = $1 AND user_id = $2");
        command.Parameters.Add(new() { Value = id });
        command.Parameters.Add(new() { Value = http.User.AiCaller().UserId });
        return await command.ExecuteNonQueryAsync(cancellationToken) == 0
            ? ApiProblem.Of(ErrorCode.NotFound)
            : TypedResults.Json(new { id, @object = "response.deleted", deleted = true });
    }

    /// <summary>OpenAI's list: <c>order</c> (desc by default), <c>after</c> an item id, <c>limit</c> 1 to 100 (20).</summary>
    internal static async Task<IResult> InputItemsAsync(string id, HttpContext http, NpgsqlDataSource data, int? limit, string? order, string? after, CancellationToken cancellationToken)
    {
        if (limit is < 1 or > Paging.MaxLimit || order is not (null or "asc" or "desc"))
        {
            return ApiProblem.Validation(new Dictionary<string, string[]> { [order is not (null or "asc" or "desc") ? "order" : "limit"] = [order is not (null or "asc" or "desc") ? "The order is asc or desc." : $"The limit must be between 1 and {Paging.MaxLimit}."] });
        }
        await using var command = data.CreateCommand("SELECT input_items::text FROM gateway_responses WHERE id = $1 AND user_id = $2");
        command.Parameters.Add(new() { Value = id });
        command.Parameters.Add(new() { Value = http.User.AiCaller().UserId });
        if (await command.ExecuteScalarAsync(cancellationToken) is not string stored)
        {
            return ApiProblem.Of(ErrorCode.NotFound);
        }
        var items = JsonNode.Parse(stored)!.AsArray().Select(i => i!.DeepClone()).ToList();
        if (order != "asc")
        {
            items.Reverse();
        }
        if (after is not null)
        {
            var index = items.FindIndex(i => (string?)i["id"] == after);
            items = index < 0 ? [] : items[(index + 1)..];
        }
        var page = items.Take(limit ?? Paging.DefaultLimit).ToList();
        var list = new JsonObject
        {
            ["object"] = "list",
            ["data"] = new JsonArray([.. page]),
            ["first_id"] = page.Count > 0 ? (string?)page[0]["id"] : null,
            ["last_id"] = page.Count > 0 ? (string?)page[^1]["id"] : null,
            ["has_more"] = items.Count > page.Count,
        };
        return TypedResults.Text(list.ToJsonString(), "application/json");
    }

    /// <summary>The items of a chain of responses, oldest first (each one's input, then its output), or null when the caller has no such response.</summary>
    private static async Task<JsonArray?> ChainAsync(NpgsqlDataSource data, string id, Guid user, CancellationToken cancellationToken)
    {
        await using var command = data.CreateCommand("""
            WITH RECURSIVE chain AS (
                SELECT r.id, r.previous_response_id, r.input_items, r.body, 1 AS depth FROM gateway_responses r WHERE r.id = $1 AND r.user_id = $2
                UNION ALL
                SELECT r.id, r.previous_response_id, r.input_items, r.body, c.depth + 1
                FROM gateway_responses r JOIN chain c ON r.id = c.previous_response_id WHERE r.user_id = $2 AND c.depth < 100)
            SELECT input_items::text, (body -> 'output')::text FROM chain ORDER BY depth DESC
            """);
        command.Parameters.Add(new() { Value = id });
        command.Parameters.Add(new() { Value = user });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var items = new JsonArray();
        var found = false;
        while (await reader.ReadAsync(cancellationToken))
        {
            found = true;
            foreach (var column in (ReadOnlySpan<int>)[0, 1])
            {
                foreach (var item in JsonNode.Parse(reader.GetString(column))!.AsArray())
                {
                    items.Add(item!.DeepClone());
                }
            }
        }
        return found ? items : null;
    }

    private static JsonObject DeveloperMessage(string text) => new()
    {
        ["type"] = "message",
        ["id"] = NewId("msg"),
        ["role"] = "developer",
        ["content"] = new JsonArray(new JsonObject { ["type"] = "input_text", ["text"] = text }),
    };

    internal static string NewId(string prefix) => $"{prefix}_{Guid.CreateVersion7():N}";
}

/// <summary>One response being made: what it answers with, and its storage once it is complete.</summary>
internal sealed class ResponseRun(string id, long created, GatewayCallScope call, ResponseInput input, int? templateVersion, NpgsqlDataSource data, TimeProvider time)
{
    public string Id => id;

    public GatewayCallScope Call => call;

    public ResponseInput Input => input;

    public JsonObject InProgress() =>
        ResponseWriter.Response(id, created, "in_progress", call.Model, input, input.Instructions, null, null, null, input.Prompt, templateVersion);

    public JsonObject Completed(JsonArray output, UsageDetails? usage, ChatFinishReason? finish) =>
        ResponseWriter.Response(id, created, finish == ChatFinishReason.Length ? "incomplete" : "completed", call.Model, input, input.Instructions, output, usage, finish, input.Prompt, templateVersion);

    /// <summary>
    /// Keeps the response and its input items (unless the request said <c>store: false</c>) and adds its input and output
    /// to its conversation, if it has one: one transaction.
    /// </summary>
    public async Task StoreAsync(JsonObject response, CancellationToken cancellationToken)
    {
        await using var batch = data.CreateBatch();
        if (input.Store)
        {
            var insert = new NpgsqlBatchCommand("""
                INSERT INTO gateway_responses (id, user_id, api_key_id, previous_response_id, model, status, input_items, body, template_type, template_version, created_at)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
                """);
            var caller = call.Caller;
            insert.Parameters.Add(new() { Value = id });
            insert.Parameters.Add(new() { Value = caller.UserId });
            insert.Parameters.Add(new() { Value = (object?)caller.ApiKeyId ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Uuid });
            insert.Parameters.Add(new() { Value = (object?)input.PreviousResponseId ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
            insert.Parameters.Add(new() { Value = call.Model });
            insert.Parameters.Add(new() { Value = (string)response["status"]! });
            insert.Parameters.Add(new() { Value = input.Items.ToJsonString(), NpgsqlDbType = NpgsqlDbType.Jsonb });
            insert.Parameters.Add(new() { Value = response.ToJsonString(), NpgsqlDbType = NpgsqlDbType.Jsonb });
            insert.Parameters.Add(new() { Value = (object?)input.Prompt?.Id ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
            insert.Parameters.Add(new() { Value = (object?)templateVersion ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Integer });
            insert.Parameters.Add(new() { Value = time.GetUtcNow(), NpgsqlDbType = NpgsqlDbType.TimestampTz });
            batch.BatchCommands.Add(insert);
        }
        if (input.ConversationId is { } conversation)
        {
            batch.BatchCommands.Add(ConversationStore.Appending(conversation, [.. input.Items.Select(i => i!.DeepClone()), .. ((JsonArray)response["output"]!).Select(o => o!.DeepClone())], time.GetUtcNow()));
        }
        if (batch.BatchCommands.Count > 0)
        {
            await batch.ExecuteNonQueryAsync(cancellationToken);
        }
    }
}

/// <summary>
/// A streamed response: OpenAI's events in their documented order, each with its <c>sequence_number</c>: created,
/// in_progress; for the text, output_item.added, content_part.added, output_text.delta…, output_text.done,
/// content_part.done, output_item.done; for each tool call, output_item.added, function_call_arguments.delta and .done,
/// output_item.done; then completed (or incomplete).
/// </summary>
internal sealed class ResponseStream(ResponseRun run, IChatClient client) : GatewayStream(run.Call, client)
{
    private int _sequence;

    protected override async Task WriteEventsAsync(HttpResponse response, CancellationToken cancellationToken)
    {
        var text = new System.Text.StringBuilder();
        var calls = new List<FunctionCallContent>();
        string? messageId = null;
        ChatFinishReason? finish = null;
        await SendAsync(response, "response.created", new JsonObject { ["response"] = run.InProgress() }, cancellationToken);
        await SendAsync(response, "response.in_progress", new JsonObject { ["response"] = run.InProgress() }, cancellationToken);
        await foreach (var update in UpdatesAsync())
        {
            finish = update.FinishReason ?? finish;
            calls.AddRange(update.Contents.OfType<FunctionCallContent>());
            if (update.Text is not { Length: > 0 } delta)
            {
                continue;
            }
            if (messageId is null)
            {
                messageId = ResponsesApi.NewId("msg");
                await SendAsync(response, "response.output_item.added", new JsonObject { ["output_index"] = 0, ["item"] = ResponseWriter.Message(messageId, "", "in_progress") }, cancellationToken);
                await SendAsync(response, "response.content_part.added", Part(messageId, ResponseWriter.TextPart("")), cancellationToken);
            }
            text.Append(delta);
            Streamed += delta.Length;
            await SendAsync(response, "response.output_text.delta", new JsonObject { ["item_id"] = messageId, ["output_index"] = 0, ["content_index"] = 0, ["delta"] = delta, ["logprobs"] = new JsonArray() }, cancellationToken);
        }
        var output = new JsonArray();
        if (messageId is not null)
        {
            await SendAsync(response, "response.output_text.done", new JsonObject { ["item_id"] = messageId, ["output_index"] = 0, ["content_index"] = 0, ["text"] = text.ToString(), ["logprobs"] = new JsonArray() }, cancellationToken);
            await SendAsync(response, "response.content_part.done", Part(messageId, ResponseWriter.TextPart(text.ToString())), cancellationToken);
            var message = ResponseWriter.Message(messageId, text.ToString(), "completed");
            await SendAsync(response, "response.output_item.done", new JsonObject { ["output_index"] = 0, ["item"] = message.DeepClone() }, cancellationToken);
            output.Add(message);
        }
        foreach (var call in calls)
        {
            var index = output.Count;
            var item = ResponseWriter.FunctionCall(call, ResponsesApi.NewId("fc"));
            var arguments = (string)item["arguments"]!;
            var started = (JsonObject)item.DeepClone();
            started["arguments"] = "";
            started["status"] = "in_progress";
            await SendAsync(response, "response.output_item.added", new JsonObject { ["output_index"] = index, ["item"] = started }, cancellationToken);
            await SendAsync(response, "response.function_call_arguments.delta", new JsonObject { ["item_id"] = (string?)item["id"], ["output_index"] = index, ["delta"] = arguments }, cancellationToken);
            await SendAsync(response, "response.function_call_arguments.done", new JsonObject { ["item_id"] = (string?)item["id"], ["output_index"] = index, ["arguments"] = arguments }, cancellationToken);
            await SendAsync(response, "response.output_item.done", new JsonObject { ["output_index"] = index, ["item"] = item.DeepClone() }, cancellationToken);
            output.Add(item);
        }
        var completed = run.Completed(output, Usage(), finish);
        Call.Succeeded(Metered);
        await run.StoreAsync(completed, CancellationToken.None);
        await SendAsync(response, (string)completed["status"]! == "incomplete" ? "response.incomplete" : "response.completed", new JsonObject { ["response"] = completed }, cancellationToken);
    }

    protected override Task WriteErrorAsync(HttpResponse response, VendorException error) =>
        SendAsync(response, "error", new JsonObject { ["code"] = error.Code.Code, ["message"] = error.VendorMessage, ["param"] = null }, CancellationToken.None);

    private static JsonObject Part(string itemId, JsonObject part) => new() { ["item_id"] = itemId, ["output_index"] = 0, ["content_index"] = 0, ["part"] = part };

    private async Task SendAsync(HttpResponse response, string type, JsonObject data, CancellationToken cancellationToken)
    {
        var body = new JsonObject { ["type"] = type, ["sequence_number"] = _sequence++ };
        foreach (var (name, value) in data.ToList())
        {
            data.Remove(name);
            body[name] = value;
        }
        await response.WriteAsync($"event: {type}\ndata: {body.ToJsonString()}\n\n", cancellationToken);
        await response.Body.FlushAsync(cancellationToken);
    }
}
