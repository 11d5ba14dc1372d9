using System.ClientModel;
using System.ClientModel.Primitives;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AiPrompts.Tests.Infrastructure;
using OpenAI;

#pragma warning disable OPENAI001 // The Conversations and Responses clients are marked experimental in the SDK.

namespace AiPrompts.Tests.Gateway;

/// <summary>
/// OpenAI's Conversations API at <c>/openai/v1/conversations</c>, driven by the official .NET SDK's conversation protocol
/// methods: create with items and metadata, read, update, items added, listed (paged both ways), read and deleted; a
/// response with <c>conversation</c> reads the items and adds its input and output; another user sees none of it.
/// </summary>
public sealed class ConversationsTests(ConversationsTests.Fixture fixture) : IClassFixture<ConversationsTests.Fixture>
{
    public sealed class Fixture : ApiFactory
    {
        public Fixture() => UseKestrel(0);
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static RequestOptions Options => new() { CancellationToken = Ct };

    private Task<(TestUser User, string Key)> CallerAsync() => OpenAICallers.CreateAsync(fixture, "user", null, Ct);

    private OpenAIClient Sdk(string key) => OpenAICallers.Sdk(fixture, key);

    private static BinaryContent Json(object value) => BinaryContent.Create(BinaryData.FromObjectAsJson(value));

    private static JsonElement Read(ClientResult result) => JsonDocument.Parse(result.GetRawResponse().Content).RootElement.Clone();

    private static async Task<List<JsonElement>> PagesAsync(AsyncCollectionResult pages)
    {
        var items = new List<JsonElement>();
        await foreach (var page in pages.GetRawPagesAsync())
        {
            items.AddRange(Read(page).GetProperty("data").EnumerateArray());
        }
        return items;
    }

    [Fact]
    public async Task A_conversation_is_made_read_updated_and_its_items_added_listed_read_and_deleted_with_the_official_SDK()
    {
        var (_, key) = await CallerAsync();
        var conversations = Sdk(key).GetConversationClient();
        var made = Read(await conversations.CreateConversationAsync(Json(new
        {
            items = new[] { new { type = "message", role = "user", content = "The lobby screen is in Lisbon." } },
            metadata = new { team = "signage" },
        }), Options));
        var id = made.GetProperty("id").GetString()!;
        Assert.StartsWith("conv_", id, StringComparison.Ordinal);
        Assert.Equal("conversation", made.GetProperty("object").GetString());
        Assert.Equal("signage", made.GetProperty("metadata").GetProperty("team").GetString());

        var updated = Read(await conversations.UpdateConversationAsync(id, Json(new { metadata = new { team = "retail" } }), Options));
        Assert.Equal("retail", updated.GetProperty("metadata").GetProperty("team").GetString());
        Assert.Equal("retail", Read(await conversations.GetConversationAsync(id, Options)).GetProperty("metadata").GetProperty("team").GetString());

        var added = Read(await conversations.CreateConversationItemsAsync(id, Json(new
        {
            items = new object[]
            {
                new { type = "message", role = "assistant", content = "Noted." },
                new { type = "message", role = "user", content = new[] { new { type = "input_text", text = "It shows the menu." } } },
            },
        }), [], Options));
        Assert.Equal(2, added.GetProperty("data").GetArrayLength());

        // Newest first by default, oldest first with order=asc; one a page, the SDK following has_more and after.
        var newest = await PagesAsync(conversations.GetConversationItemsAsync(id, 1, null, null, [], Options));
        var oldest = await PagesAsync(conversations.GetConversationItemsAsync(id, 1, "asc", null, [], Options));
        Assert.Equal(3, newest.Count);
        Assert.Equal(oldest.Select(i => i.GetProperty("id").GetString()), newest.Select(i => i.GetProperty("id").GetString()).Reverse());
        Assert.Equal("The lobby screen is in Lisbon.", oldest[0].GetProperty("content")[0].GetProperty("text").GetString());

        var second = oldest[1].GetProperty("id").GetString()!;
        Assert.Equal("Noted.", Read(await conversations.GetConversationItemAsync(id, second, [], Options)).GetProperty("content")[0].GetProperty("text").GetString());
        Assert.Equal(id, Read(await conversations.DeleteConversationItemAsync(id, second, Options)).GetProperty("id").GetString());
        Assert.Equal(404, (await Assert.ThrowsAsync<ClientResultException>(() => conversations.GetConversationItemAsync(id, second, [], Options))).Status);
        Assert.Equal(2, (await PagesAsync(conversations.GetConversationItemsAsync(id, null, null, null, [], Options))).Count);

        Assert.True(Read(await conversations.DeleteConversationAsync(id, Options)).GetProperty("deleted").GetBoolean());
        Assert.Equal(404, (await Assert.ThrowsAsync<ClientResultException>(() => conversations.GetConversationAsync(id, Options))).Status);
    }

    [Fact]
    public async Task A_response_in_a_conversation_reads_its_items_and_adds_its_input_and_output_and_strangers_see_nothing()
    {
        var (user, key) = await CallerAsync();
        var sdk = Sdk(key);
        var conversations = sdk.GetConversationClient();
        var responses = sdk.GetResponsesClient();
        var id = Read(await conversations.CreateConversationAsync(Json(new
        {
            items = new[] { new { type = "message", role = "user", content = "The lobby screen is in Lisbon." } },
        }), Options)).GetProperty("id").GetString()!;

        var inConversation = Read(await responses.CreateResponseAsync(Json(new { model = "local/local-text", input = "Where is the screen?", conversation = id }), Options));
        var alone = Read(await responses.CreateResponseAsync(Json(new { model = "local/local-text", input = "Where is the screen?" }), Options));
        Assert.Equal(id, inConversation.GetProperty("conversation").GetProperty("id").GetString());
        Assert.True(inConversation.GetProperty("usage").GetProperty("input_tokens").GetInt64() > alone.GetProperty("usage").GetProperty("input_tokens").GetInt64());

        var items = await PagesAsync(conversations.GetConversationItemsAsync(id, 100, "asc", null, [], Options));
        Assert.Equal(3, items.Count);
        Assert.Equal("Where is the screen?", items[1].GetProperty("content")[0].GetProperty("text").GetString());
        Assert.Equal("assistant", items[2].GetProperty("role").GetString());
        Assert.Equal(inConversation.GetProperty("output")[0].GetProperty("content")[0].GetProperty("text").GetString(), items[2].GetProperty("content")[0].GetProperty("text").GetString());

        // The next response in it sees the answer too.
        var next = Read(await responses.CreateResponseAsync(Json(new { model = "local/local-text", input = "Thanks", conversation = new { id } }), Options));
        Assert.Equal(5, (await PagesAsync(conversations.GetConversationItemsAsync(id, 100, null, null, [], Options))).Count);
        Assert.True(next.GetProperty("usage").GetProperty("input_tokens").GetInt64() > inConversation.GetProperty("usage").GetProperty("input_tokens").GetInt64());

        var (_, strangerKey) = await CallerAsync();
        var stranger = Sdk(strangerKey);
        Assert.Equal(404, (await Assert.ThrowsAsync<ClientResultException>(() => stranger.GetConversationClient().GetConversationAsync(id, Options))).Status);
        Assert.Equal(404, (await Assert.ThrowsAsync<ClientResultException>(() => stranger.GetConversationClient().CreateConversationItemsAsync(id, Json(new { items = new[] { new { role = "user", content = "hi" } } }), [], Options))).Status);
        Assert.Equal(404, (await Assert.ThrowsAsync<ClientResultException>(() => stranger.GetConversationClient().DeleteConversationAsync(id, Options))).Status);
        Assert.Equal(404, (await Assert.ThrowsAsync<ClientResultException>(() => stranger.GetResponsesClient().CreateResponseAsync(Json(new { model = "local/local-text", input = "hi", conversation = id }), Options))).Status);
        Assert.Equal(5, (await PagesAsync(conversations.GetConversationItemsAsync(id, 100, null, null, [], Options))).Count);
        Assert.Equal(3, await fixture.Database.ScalarAsync<long>("SELECT count(*) FROM usage_events WHERE user_id = $1", user.Id));
    }

    [Fact]
    public async Task Bad_input_on_conversations_is_an_OpenAI_error_naming_the_field_and_writes_nothing()
    {
        var (user, key) = await CallerAsync();
        using var http = fixture.CreateClient(key);
        var tooMany = Enumerable.Range(0, 21).Select(i => new { role = "user", content = $"item {i}" }).ToArray();
        foreach (var (path, body, param) in new (string, object, string)[]
        {
            ("/openai/v1/conversations", new { items = tooMany }, "items"),
            ("/openai/v1/conversations", new { items = new[] { new { role = "wizard", content = "hi" } } }, "items[0].role"),
            ("/openai/v1/conversations", new { metadata = new { n = 1 } }, "metadata.n"),
            ("/openai/v1/responses", new { model = "local/local-text", input = "hi", conversation = "conv_x", previous_response_id = "resp_y" }, "conversation"),
        })
        {
            var response = await http.PostAsJsonAsync(path, body, Ct);
            var text = await response.Content.ReadAsStringAsync(Ct);
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, text);
            Assert.Equal(param, JsonDocument.Parse(text).RootElement.GetProperty("error").GetProperty("param").GetString());
        }
        Assert.Equal(0, await fixture.Database.ScalarAsync<long>("SELECT count(*) FROM gateway_conversations WHERE user_id = $1", user.Id));
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("/openai/v1/conversations/conv_nope/items", Ct)).StatusCode);
    }
}
