using System.Text.Json;
using System.Text.Json.Nodes;
using AiPrompts.Api.Auth;
using AiPrompts.Api.Errors;
using AiPrompts.Api.Input;
using AiPrompts.Core.Errors;
using AiPrompts.Core.Gateway;
using Microsoft.AspNetCore.Http.HttpResults;

namespace AiPrompts.Api.Gateway;

/// <summary>
/// OpenAI's Conversations API at <c>/openai/v1/conversations</c>: a conversation (with up to 20 first items), its metadata,
/// its items (add up to 20 at a time, list, read, delete). A response with <c>conversation</c> reads its items and adds its
/// input and output to them. Every conversation is its owner's alone: anyone else is told it does not exist.
/// </summary>
internal static class ConversationItemsApi
{
    public static RouteGroupBuilder MapConversations(this RouteGroupBuilder group)
    {
        group.MapPost("/conversations", CreateAsync).WithName("CreateOpenAIConversation").Produces<ConversationObject>().WithSummary("A conversation, with up to 20 first items and metadata");
        group.MapGet("/conversations/{id}", GetAsync).WithName("GetOpenAIConversation").Produces<ConversationObject>().WithSummary("One of my conversations");
        group.MapPost("/conversations/{id}", UpdateAsync).WithName("UpdateOpenAIConversation").Produces<ConversationObject>().WithSummary("Replace a conversation's metadata");
        group.MapDelete("/conversations/{id}", DeleteAsync).WithName("DeleteOpenAIConversation").Produces<DeletedObject>().WithSummary("Delete a conversation and its items");
        group.MapPost("/conversations/{id}/items", AddItemsAsync).WithName("CreateOpenAIConversationItems").Produces<ItemList>().WithSummary("Add up to 20 items at the end");
        group.MapGet("/conversations/{id}/items", ListItemsAsync).WithName("ListOpenAIConversationItems").Produces<ItemList>().WithSummary("A conversation's items (order, after, limit)");
        group.MapGet("/conversations/{id}/items/{itemId}", GetItemAsync).WithName("GetOpenAIConversationItem").Produces<JsonElement>().WithSummary("One item");
        group.MapDelete("/conversations/{id}/items/{itemId}", DeleteItemAsync).WithName("DeleteOpenAIConversationItem").Produces<ConversationObject>().WithSummary("Delete one item; answers the conversation");
        return group;
    }

    internal static async Task<IResult> CreateAsync(ConversationCreateRequest? body, HttpContext http, ConversationStore store, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        var items = Items(body?.Items is { } given ? JsonSerializer.SerializeToElement(given) : null, "items", errors);
        var metadata = ResponseInput.ReadMetadata(body?.Metadata is { } pairs ? JsonSerializer.SerializeToElement(pairs) : null, errors);
        if (errors.Count > 0)
        {
            return ApiProblem.Validation(errors);
        }
        return View(await store.CreateAsync(http.User.AiCaller().UserId, metadata, items, cancellationToken));
    }

    internal static async Task<IResult> GetAsync(string id, HttpContext http, ConversationStore store, CancellationToken cancellationToken) =>
        await store.GetAsync(id, http.User.AiCaller().UserId, cancellationToken) is { } row ? View(row) : ApiProblem.Of(ErrorCode.NotFound);

    internal static async Task<IResult> UpdateAsync(string id, ConversationUpdateRequest body, HttpContext http, ConversationStore store, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        if (body.Metadata is not { } given)
        {
            errors["metadata"] = ["The metadata is required."];
            return ApiProblem.Validation(errors);
        }
        var metadata = ResponseInput.ReadMetadata(JsonSerializer.SerializeToElement(given), errors);
        if (errors.Count > 0)
        {
            return ApiProblem.Validation(errors);
        }
        return await store.UpdateAsync(id, http.User.AiCaller().UserId, metadata, cancellationToken) is { } row ? View(row) : ApiProblem.Of(ErrorCode.NotFound);
    }

    internal static async Task<IResult> DeleteAsync(string id, HttpContext http, ConversationStore store, CancellationToken cancellationToken) =>
        await store.DeleteAsync(id, http.User.AiCaller().UserId, cancellationToken)
            ? TypedResults.Json(new { id, @object = "conversation.deleted", deleted = true })
            : ApiProblem.Of(ErrorCode.NotFound);

    internal static async Task<IResult> AddItemsAsync(string id, ConversationItemsRequest body, HttpContext http, ConversationStore store, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        var items = Items(body.Items is { } given ? JsonSerializer.SerializeToElement(given) : null, "items", errors);
        if (items.Count == 0 && errors.Count == 0)
        {
            errors["items"] = [$"Between 1 and {ConversationStore.MaxItemsPerCall} items are added at a time."];
        }
        if (errors.Count > 0)
        {
            return ApiProblem.Validation(errors);
        }
        if (!await store.AddAsync(id, http.User.AiCaller().UserId, items, cancellationToken))
        {
            return ApiProblem.Of(ErrorCode.NotFound);
        }
        var list = new JsonObject
        {
            ["object"] = "list",
            ["data"] = items.DeepClone(),
            ["first_id"] = (string?)items[0]!["id"],
            ["last_id"] = (string?)items[^1]!["id"],
            ["has_more"] = false,
        };
        return TypedResults.Text(list.ToJsonString(), "application/json");
    }

    internal static async Task<IResult> ListItemsAsync(string id, HttpContext http, ConversationStore store, int? limit, string? order, string? after, CancellationToken cancellationToken)
    {
        if (limit is < 1 or > Paging.MaxLimit)
        {
            return ApiProblem.Validation(new Dictionary<string, string[]> { ["limit"] = [$"The limit must be between 1 and {Paging.MaxLimit}."] });
        }
        if (order is not (null or "asc" or "desc"))
        {
            return ApiProblem.Validation(new Dictionary<string, string[]> { ["order"] = ["The order is asc or desc."] });
        }
        var page = await store.PageAsync(id, http.User.AiCaller().UserId, limit ?? Paging.DefaultLimit, order == "asc", after, cancellationToken);
        return page is null ? ApiProblem.Of(ErrorCode.NotFound) : TypedResults.Text(page.ToJsonString(), "application/json");
    }

    internal static async Task<IResult> GetItemAsync(string id, string itemId, HttpContext http, ConversationStore store, CancellationToken cancellationToken) =>
        await store.ItemAsync(id, itemId, http.User.AiCaller().UserId, cancellationToken) is { } item
            ? TypedResults.Text(item.ToJsonString(), "application/json")
            : ApiProblem.Of(ErrorCode.NotFound);

    internal static async Task<IResult> DeleteItemAsync(string id, string itemId, HttpContext http, ConversationStore store, CancellationToken cancellationToken)
    {
        var user = http.User.AiCaller().UserId;
        return await store.DeleteItemAsync(id, itemId, user, cancellationToken) && await store.GetAsync(id, user, cancellationToken) is { } row
            ? View(row)
            : ApiProblem.Of(ErrorCode.NotFound);
    }

    /// <summary>Up to 20 items in OpenAI's form, each checked as a response's input item is and given an id.</summary>
    private static JsonArray Items(JsonElement? given, string field, Dictionary<string, string[]> errors)
    {
        var items = new JsonArray();
        switch (given)
        {
            case null or { ValueKind: JsonValueKind.Null or JsonValueKind.Undefined }:
                break;
            case { ValueKind: JsonValueKind.Array } array when array.GetArrayLength() <= ConversationStore.MaxItemsPerCall:
                var i = 0;
                foreach (var item in array.EnumerateArray())
                {
                    if (ResponseInput.Item(item, $"{field}[{i}]", ResponseWriter.NewId, errors) is { } node)
                    {
                        items.Add(node);
                    }
                    i++;
                }
                break;
            default:
                errors[field] = [$"Between 1 and {ConversationStore.MaxItemsPerCall} items are added at a time."];
                break;
        }
        return items;
    }

    private static ContentHttpResult View(ConversationStore.Row row) => TypedResults.Text(new JsonObject
    {
        ["id"] = row.Id,
        ["object"] = "conversation",
        ["created_at"] = row.CreatedAt.ToUnixTimeSeconds(),
        ["metadata"] = row.Metadata.DeepClone(),
    }.ToJsonString(), "application/json");
}
