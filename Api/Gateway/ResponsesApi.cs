using System.Text.Json;
using System.Text.Json.Nodes;
using AiPrompts.Api.Auth;
using AiPrompts.Api.Errors;
using AiPrompts.Api.Input;
using AiPrompts.Core.Errors;
using AiPrompts.Core.Gateway;
using AiPrompts.Core.Providers;
using AiPrompts.Core.Vendors;
using Microsoft.AspNetCore.Mvc;
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
        group.MapPost("/responses", CreateAsync).WithName("CreateResponse").CallsVendor()
            .ProducesProblem(StatusCodes.Status404NotFound) // the previous response, the conversation or the template
            .Produces<ResponseObject>(StatusCodes.Status200OK, "application/json", "text/event-stream")
            .WithSummary("A model response (Responses API), whole or streamed; prompt: {id, version, variables} runs one of our versioned templates");
        group.MapGet("/responses/{id}", GetAsync).WithName("GetResponse")
            .Produces<ResponseObject>(StatusCodes.Status200OK, "application/json", "text/event-stream")
            .WithSummary("One of my stored responses; stream=true replays its events after starting_after and follows a background one to its end");
        group.MapPost("/responses/{id}/cancel", CancelAsync).WithName("CancelResponse").Produces<ResponseObject>().WithSummary("Cancel one of my background responses (it ends cancelled; one that has ended is answered as it is)");
        group.MapDelete("/responses/{id}", DeleteAsync).WithName("DeleteResponse").Produces<DeletedObject>().WithSummary("Delete one of my stored responses");
        group.MapGet("/responses/{id}/input_items", InputItemsAsync).WithName("ListResponseInputItems").Produces<ItemList>().WithSummary("A stored response's input items (order, after, limit)");
        return group;
    }

    internal static async Task<IResult> CreateAsync(
        ResponseCreateRequest request, HttpContext http, GatewayAdmission admission, VendorClientPool vendors, NpgsqlDataSource data, ResponsePrompts templates, ConversationStore conversations,
        BackgroundResponses background, TimeProvider time, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        // The contract's record documents the body; the checks read it as JSON, to tell a text input from items.
        var body = JsonSerializer.SerializeToElement(request);
        if (ResponseInput.From(body, ResponseWriter.NewId, errors) is not { } input)
        {
            return ApiProblem.Validation(errors);
        }
        var caller = http.User.AiCaller();
        // What the model answers, as items: the chain or the conversation so far, then this request's input.
        var contextItems = new List<JsonNode?>();
        if (input.PreviousResponseId is { } previous)
        {
            if (await ChainAsync(data, previous, caller.UserId, cancellationToken) is not { } chain)
            {
                return ApiProblem.Of(ErrorCode.NotFound);
            }
            contextItems.AddRange(chain);
        }
        if (input.ConversationId is { } conversation)
        {
            if (await conversations.AllItemsAsync(conversation, caller.UserId, cancellationToken) is not { } items)
            {
                return ApiProblem.Of(ErrorCode.NotFound);
            }
            contextItems.AddRange(items);
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
            var item = input.Items.Count == 0 ? ResponseInput.UserMessage(text!, ResponseWriter.NewId("msg")) : DeveloperMessage(text!);
            input.Items.Insert(0, item);
        }
        contextItems.AddRange(input.Items);
        var context = ResponseInput.Messages(contextItems).ToList();
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
        var ask = new GatewayAsk(GatewaySurfaces.Response, required, Sections.Chat, input.Model, characters, input.Options.MaxOutputTokens, purpose);
        if (input.Background)
        {
            return await background.SubmitAsync(http, ask, input, body, contextItems, templateVersion, cancellationToken);
        }
        var (call, refused) = await admission.BeginAsync(http, ask, cancellationToken);
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
        var output = ResponseWriter.Output(response.Text, [.. response.Messages.SelectMany(m => m.Contents).OfType<FunctionCallContent>()], ResponseWriter.NewId);
        var answer = run.Completed(output, response.Usage, response.FinishReason);
        await run.StoreAsync(answer, CancellationToken.None);
        call.AnswerReady();
        return TypedResults.Text(answer.ToJsonString(), "application/json");
    }

    /// <summary>The response as it stands (a background one's status from its job); with <c>stream=true</c>, its events after <c>starting_after</c>.</summary>
    internal static async Task<IResult> GetAsync(
        string id, HttpContext http, BackgroundResponses background, bool? stream, [FromQuery(Name = "starting_after")] int? startingAfter, CancellationToken cancellationToken)
    {
        if (startingAfter is < 0)
        {
            return ApiProblem.Validation(new Dictionary<string, string[]> { ["starting_after"] = ["The sequence number to resume after is 0 or more."] });
        }
        var caller = http.User.AiCaller();
        if (await background.FindAsync(id, caller.UserId, cancellationToken) is not { } found)
        {
            return ApiProblem.Of(ErrorCode.NotFound);
        }
        return stream == true
            ? background.Stream(http, found, startingAfter ?? -1, cancellationToken)
            : TypedResults.Text(background.View(http, found).ToJsonString(), "application/json");
    }

    internal static async Task<IResult> CancelAsync(string id, HttpContext http, BackgroundResponses background, CancellationToken cancellationToken) =>
        await background.CancelAsync(http, id, cancellationToken);

    internal static async Task<IResult> DeleteAsync(string id, HttpContext http, BackgroundResponses background, CancellationToken cancellationToken) =>
        await background.DeleteAsync(http.User.AiCaller().UserId, id, cancellationToken)
            ? TypedResults.Json(new { id, @object = "response.deleted", deleted = true })
            : ApiProblem.Of(ErrorCode.NotFound);

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
        ["id"] = ResponseWriter.NewId("msg"),
        ["role"] = "developer",
        ["content"] = new JsonArray(new JsonObject { ["type"] = "input_text", ["text"] = text }),
    };

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
            batch.BatchCommands.Add(ConversationWrites.Appending(conversation, [.. input.Items.Select(i => i!.DeepClone()), .. ((JsonArray)response["output"]!).Select(o => o!.DeepClone())], time.GetUtcNow()));
        }
        if (batch.BatchCommands.Count > 0)
        {
            await batch.ExecuteNonQueryAsync(cancellationToken);
        }
    }
}

/// <summary>A streamed response: <see cref="ResponseEvents"/> as the vendor answers, written to the client as server-sent events.</summary>
internal sealed class ResponseStream(ResponseRun run, IChatClient client) : GatewayStream(run.Call, client)
{
    private ResponseEvents? _events;

    protected override async Task WriteEventsAsync(HttpResponse response, CancellationToken cancellationToken)
    {
        var events = _events = new ResponseEvents((type, body, token) => SendAsync(response, type, body, token));
        var calls = new List<FunctionCallContent>();
        ChatFinishReason? finish = null;
        await events.StartAsync(run.InProgress(), cancellationToken);
        await foreach (var update in UpdatesAsync())
        {
            finish = update.FinishReason ?? finish;
            calls.AddRange(update.Contents.OfType<FunctionCallContent>());
            if (update.Text is { Length: > 0 } delta)
            {
                Streamed += delta.Length;
                await events.TextAsync(delta, () => ResponseWriter.NewId("msg"), cancellationToken);
            }
        }
        await events.EndMessageAsync(cancellationToken);
        foreach (var call in calls)
        {
            await events.FunctionCallAsync(ResponseWriter.FunctionCall(call, ResponseWriter.NewId("fc")), cancellationToken);
        }
        var completed = run.Completed(events.Output, Usage(), finish);
        Call.Succeeded(Metered);
        await run.StoreAsync(completed, CancellationToken.None);
        await events.EndAsync(completed, cancellationToken);
    }

    protected override Task WriteErrorAsync(HttpResponse response, VendorException error) =>
        (_events ?? new ResponseEvents((type, body, token) => SendAsync(response, type, body, token))).ErrorAsync(error.Code.Code, error.VendorMessage, CancellationToken.None).AsTask();

    internal static async ValueTask SendAsync(HttpResponse response, string type, JsonObject body, CancellationToken cancellationToken)
    {
        await response.WriteAsync($"event: {type}\ndata: {body.ToJsonString()}\n\n", cancellationToken);
        await response.Body.FlushAsync(cancellationToken);
    }
}
