using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AiPrompts.Core.Providers;
using AiPrompts.Core.Vendors;
using AiPrompts.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;

namespace AiPrompts.Tests.Ai;

#pragma warning disable MEAI001

/// <summary>
/// §D through the API: who sees and may do what on the settings and models pages, which key each caller
/// gets per section, and that a vendor key never comes back out.
/// </summary>
public sealed class AiSettingsTests(AiFactory api) : IClassFixture<AiFactory>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private const string ChatOk = """{"id":"ok-1","model":"gpt-4o-mini","choices":[{"message":{"role":"assistant","content":"OK"},"finish_reason":"stop"}],"usage":{"prompt_tokens":8,"completion_tokens":1,"total_tokens":9}}""";

    private static async Task<JsonElement> DataAsync(HttpResponseMessage response, HttpStatusCode expected = HttpStatusCode.OK)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(expected == response.StatusCode, $"Expected {(int)expected}, got {(int)response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement.GetProperty("data").Clone();
    }

    private static JsonElement Section(JsonElement availability, string section) =>
        availability.EnumerateArray().Single(e => e.GetProperty("section").GetString() == section);

    private static JsonElement Provider(JsonElement providers, string id) =>
        providers.EnumerateArray().Single(e => e.GetProperty("id").GetString() == id);

    [Fact]
    public async Task The_role_matrix_of_section_D_holds()
    {
        // A provider of our own for this test, so other tests' changes to catalogue providers do not interfere.
        using var root = api.CreateClient(await api.AdminTokenAsync());
        var providerId = $"matrix-{Guid.NewGuid():N}"[..20];
        await DataAsync(await root.PostAsJsonAsync("/api/v1/ai/providers", new
        {
            id = providerId, displayName = "Matrix vendor", baseUrl = api.Vendor.Url + "/v1",
            models = new[] { new { id = "m-chat", capabilities = new[] { "chat", "content" } } },
        }, Ct), HttpStatusCode.Created);
        var admin = await api.CreateUserAsync("admin");
        var user = await api.CreateUserAsync("user");
        using var adminClient = api.CreateClient(admin.Token);
        using var userClient = api.CreateClient(user.Token);

        async Task<(HttpStatusCode Status, string? Source, string? Code)> ResolveAsync(HttpClient client)
        {
            api.Vendor.Handler = (context, _) => FakeVendor.JsonAsync(context, 200, ChatOk);
            var response = await client.PostAsJsonAsync($"/api/v1/ai/providers/{providerId}/test", new { }, Ct);
            using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct));
            return response.IsSuccessStatusCode
                ? (response.StatusCode, body.RootElement.GetProperty("data").GetProperty("keySource").GetString(), null)
                : (response.StatusCode, null, body.RootElement.GetProperty("code").GetString());
        }

        // No key anywhere: nobody can use it.
        Assert.Equal((HttpStatusCode.BadRequest, null, "ai_key_missing"), await ResolveAsync(adminClient));

        // Only the super admin may set the shared key or its policy, enable providers, pick models.
        Assert.Equal(HttpStatusCode.Forbidden, (await adminClient.PutAsJsonAsync($"/api/v1/ai/providers/{providerId}/shared-key", new { key = "sk-admin-tries-0123456789" }, Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await adminClient.PatchAsJsonAsync($"/api/v1/ai/providers/{providerId}/shared-key", new { allowAdmins = true }, Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await adminClient.PatchAsJsonAsync($"/api/v1/ai/providers/{providerId}", new { enabled = false }, Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await adminClient.PutAsJsonAsync("/api/v1/ai/sections/chat", new { provider = providerId, model = "m-chat" }, Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await adminClient.PatchAsJsonAsync($"/api/v1/ai/models/{providerId}/m-chat", new { enabled = false }, Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await adminClient.PostAsync("/api/v1/ai/catalogue/populate", null, Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await userClient.DeleteAsync($"/api/v1/ai/providers/{providerId}/shared-key", Ct)).StatusCode);

        var shared = await DataAsync(await root.PutAsJsonAsync($"/api/v1/ai/providers/{providerId}/shared-key", new { key = "sk-shared-0123456789-WXYZ" }, Ct));
        Assert.Equal("…WXYZ", shared.GetProperty("sharedKey").GetProperty("lastFour").GetString());
        Assert.False(shared.GetProperty("sharedKey").GetProperty("allowAdmins").GetBoolean()); // closed by default

        // Shared key set but not allowed for admins or users; the super admin may always use it.
        Assert.Equal((HttpStatusCode.OK, "shared", null), await ResolveAsync(root));
        Assert.Equal((HttpStatusCode.Forbidden, null, "shared_key_not_allowed"), await ResolveAsync(adminClient));
        Assert.Equal((HttpStatusCode.Forbidden, null, "shared_key_not_allowed"), await ResolveAsync(userClient));

        // Ordinary admins and users see nothing of the shared key, not even that one exists.
        foreach (var client in new[] { adminClient, userClient })
        {
            var raw = await client.GetStringAsync("/api/v1/ai/providers", Ct);
            Assert.DoesNotContain("sharedKey", raw, StringComparison.Ordinal);
            Assert.DoesNotContain("WXYZ", raw, StringComparison.Ordinal);
        }

        await DataAsync(await root.PatchAsJsonAsync($"/api/v1/ai/providers/{providerId}/shared-key", new { allowAdmins = true }, Ct));
        Assert.Equal((HttpStatusCode.OK, "shared", null), await ResolveAsync(adminClient));
        Assert.Equal((HttpStatusCode.Forbidden, null, "shared_key_not_allowed"), await ResolveAsync(userClient));

        await DataAsync(await root.PatchAsJsonAsync($"/api/v1/ai/providers/{providerId}/shared-key", new { allowUsers = true }, Ct));
        Assert.Equal((HttpStatusCode.OK, "shared", null), await ResolveAsync(userClient));

        // An admin's personal key comes first, and is theirs alone.
        var personal = await DataAsync(await adminClient.PutAsJsonAsync($"/api/v1/ai/providers/{providerId}/personal-key", new { key = "sk-personal-0123456789-ABCD" }, Ct));
        Assert.Equal("…ABCD", personal.GetProperty("personalKey").GetProperty("lastFour").GetString());
        Assert.Equal((HttpStatusCode.OK, "personal", null), await ResolveAsync(adminClient));
        Assert.Equal($"Bearer sk-personal-0123456789-ABCD", api.Vendor.Requests.Last().Headers["Authorization"]);
        Assert.Equal((HttpStatusCode.OK, "shared", null), await ResolveAsync(userClient));
        Assert.Equal($"Bearer sk-shared-0123456789-WXYZ", api.Vendor.Requests.Last().Headers["Authorization"]);
        var userView = Provider(await DataAsync(await userClient.GetAsync("/api/v1/ai/providers", Ct)), providerId);
        Assert.False(userView.GetProperty("personalKey").GetProperty("isSet").GetBoolean());

        // Shared key switched off: users are refused, the admin keeps their personal key.
        await DataAsync(await root.PatchAsJsonAsync($"/api/v1/ai/providers/{providerId}/shared-key", new { enabled = false }, Ct));
        Assert.Equal((HttpStatusCode.BadRequest, null, "ai_key_missing"), await ResolveAsync(userClient));
        Assert.Equal((HttpStatusCode.OK, "personal", null), await ResolveAsync(adminClient));

        // Provider switched off: nobody.
        await DataAsync(await root.PatchAsJsonAsync($"/api/v1/ai/providers/{providerId}", new { enabled = false }, Ct));
        Assert.Equal((HttpStatusCode.BadRequest, null, "provider_disabled"), await ResolveAsync(adminClient));
        Assert.Equal((HttpStatusCode.BadRequest, null, "provider_disabled"), await ResolveAsync(root));

        // Clearing my personal key is mine to do; clearing one that is not there is a 404.
        Assert.Equal(HttpStatusCode.NoContent, (await adminClient.DeleteAsync($"/api/v1/ai/providers/{providerId}/personal-key", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await userClient.DeleteAsync($"/api/v1/ai/providers/{providerId}/personal-key", Ct)).StatusCode);
    }

    [Fact]
    public async Task Availability_tells_each_caller_per_section_what_they_get_or_why_not_in_their_language()
    {
        using var root = api.CreateClient(await api.AdminTokenAsync());
        var user = await api.CreateUserAsync("user");
        using var userClient = api.CreateClient(user.Token, "th");

        // Out of the box every section is on the local provider, which needs no key.
        var before = await DataAsync(await userClient.GetAsync("/api/v1/ai/availability", Ct));
        Assert.Equal(Sections.All, before.EnumerateArray().Select(e => e.GetProperty("section").GetString()));

        // Point the content section at Claude, for which nobody has a key.
        await DataAsync(await root.PutAsJsonAsync("/api/v1/ai/sections/content", new { provider = "anthropic", model = "claude-3-5-haiku-latest" }, Ct));
        try
        {
            var response = await userClient.GetAsync("/api/v1/ai/availability", Ct);
            Assert.Equal("th", response.Content.Headers.ContentLanguage.Single());
            var availability = await DataAsync(response);
            var content = Section(availability, "content");
            Assert.False(content.GetProperty("available").GetBoolean());
            Assert.Equal("anthropic", content.GetProperty("provider").GetString());
            Assert.Equal("ai_key_missing", content.GetProperty("code").GetString());
            Assert.Equal("ไม่มี API key สำหรับ Anthropic Claude", content.GetProperty("userMessage").GetString());
            Assert.Contains("Anthropic Claude", content.GetProperty("recoveryAction").GetString(), StringComparison.Ordinal);
            var image = Section(availability, "image");
            Assert.True(image.GetProperty("available").GetBoolean());
            Assert.Equal("none", image.GetProperty("keySource").GetString());
            Assert.Equal("local-image", image.GetProperty("model").GetString());
        }
        finally
        {
            await DataAsync(await root.PutAsJsonAsync("/api/v1/ai/sections/content", new { provider = "local", model = "local-text" }, Ct));
        }
    }

    [Fact]
    public async Task Sections_take_only_enabled_models_with_the_capability_and_model_overrides_survive_populate()
    {
        using var root = api.CreateClient(await api.AdminTokenAsync());
        var wrong = await root.PutAsJsonAsync("/api/v1/ai/sections/image", new { provider = "openai", model = "gpt-4o-mini" }, Ct);
        Assert.Equal("model_lacks_capability", (await Problem.ReadAsync(wrong, HttpStatusCode.BadRequest)).Code);
        var missing = await root.PutAsJsonAsync("/api/v1/ai/sections/image", new { provider = "openai", model = "no-such-model" }, Ct);
        Assert.Equal("model_unavailable", (await Problem.ReadAsync(missing, HttpStatusCode.BadRequest)).Code);
        Assert.Equal(HttpStatusCode.NotFound, (await root.PutAsJsonAsync("/api/v1/ai/sections/video", new { provider = "local", model = "local-text" }, Ct)).StatusCode);

        // Model ids with slashes work in the path; overrides are kept apart from catalogue values.
        var changed = await DataAsync(await root.PatchAsJsonAsync("/api/v1/ai/models/openrouter/meta-llama/llama-3.1-8b-instruct",
            new { capabilities = new[] { "chat" }, inputPrice = 0.5m, outputPrice = 0.75m }, Ct));
        Assert.Equal(["chat"], changed.GetProperty("capabilities").EnumerateArray().Select(c => c.GetString()));
        Assert.Contains("content", changed.GetProperty("catalogueCapabilities").EnumerateArray().Select(c => c.GetString()));
        Assert.Equal(0.5m, changed.GetProperty("inputPrice").GetDecimal());
        var bad = await root.PatchAsJsonAsync("/api/v1/ai/models/huggingface/black-forest-labs/FLUX.1-schnell", new { capabilities = new[] { "chat" } }, Ct);
        Assert.Equal("validation_failed", (await Problem.ReadAsync(bad, HttpStatusCode.BadRequest)).Code); // a Hugging Face adapter cannot chat

        var populate = await DataAsync(await root.PostAsync("/api/v1/ai/catalogue/populate", null, Ct));
        Assert.Equal(0, populate.GetProperty("modelsAdded").GetInt32());
        Assert.Equal(0, populate.GetProperty("modelsUpdated").GetInt32()); // idempotent: nothing changed in the file

        var models = await DataAsync(await root.GetAsync("/api/v1/ai/models?provider=openrouter&capability=content", Ct));
        Assert.DoesNotContain(models.EnumerateArray(), m => m.GetProperty("id").GetString() == "meta-llama/llama-3.1-8b-instruct");
        var kept = await api.Database.ScalarAsync<decimal>("SELECT input_price_override FROM ai_models WHERE model_id = 'meta-llama/llama-3.1-8b-instruct'");
        Assert.Equal(0.5m, kept);

        // A catalogue value changed under the override (as a new catalogue version would): populate restores
        // the catalogue's value and still leaves the override alone.
        await api.Database.ExecuteAsync("UPDATE ai_models SET input_price = 99, display_name = 'stale' WHERE model_id = 'meta-llama/llama-3.1-8b-instruct'");
        var again = await DataAsync(await root.PostAsync("/api/v1/ai/catalogue/populate", null, Ct));
        Assert.Equal(1, again.GetProperty("modelsUpdated").GetInt32());
        Assert.Equal(0.02m, await api.Database.ScalarAsync<decimal>("SELECT input_price FROM ai_models WHERE model_id = 'meta-llama/llama-3.1-8b-instruct'"));
        Assert.Equal(0.5m, await api.Database.ScalarAsync<decimal>("SELECT input_price_override FROM ai_models WHERE model_id = 'meta-llama/llama-3.1-8b-instruct'"));

        var reset = await DataAsync(await root.PatchAsJsonAsync("/api/v1/ai/models/openrouter/meta-llama/llama-3.1-8b-instruct", new { reset = new[] { "capabilities", "prices" } }, Ct));
        Assert.False(reset.GetProperty("capabilitiesOverridden").GetBoolean());
        Assert.Equal(0.02m, reset.GetProperty("inputPrice").GetDecimal());

        // The active model of a section cannot lose its capability or be disabled under it.
        var active = await root.PatchAsJsonAsync("/api/v1/ai/models/local/local-image", new { enabled = false }, Ct);
        Assert.Equal("conflict", (await Problem.ReadAsync(active, HttpStatusCode.Conflict)).Code);

        var audit = await api.Database.ScalarAsync<long>("SELECT count(*) FROM audit_logs WHERE action = 'model.update' AND entity_id = 'openrouter/meta-llama/llama-3.1-8b-instruct'");
        Assert.Equal(2, audit);
        Assert.Equal(2, await api.Database.ScalarAsync<long>("SELECT count(*) FROM audit_logs WHERE action = 'catalogue.populate'"));
    }

    [Fact]
    public async Task Testing_a_key_reports_success_or_the_vendors_error_translated()
    {
        var admin = await api.CreateUserAsync("admin");
        using var client = api.CreateClient(admin.Token);
        await DataAsync(await client.PutAsJsonAsync("/api/v1/ai/providers/openai/personal-key", new { key = "sk-my-own-key-0123456789" }, Ct));

        api.Vendor.Handler = (context, _) => FakeVendor.JsonAsync(context, 200, ChatOk);
        var ok = await DataAsync(await client.PostAsJsonAsync("/api/v1/ai/providers/openai/test", new { model = "gpt-4o-mini" }, Ct));
        Assert.True(ok.GetProperty("ok").GetBoolean());
        Assert.Equal("personal", ok.GetProperty("keySource").GetString());

        api.Vendor.Handler = (context, _) => FakeVendor.JsonAsync(context, 401, """{"error":{"message":"Incorrect API key provided: sk-my-own-key-0123456789.","type":"invalid_request_error","code":"invalid_api_key"}}""");
        using var thai = api.CreateClient(admin.Token, "th");
        var failed = await DataAsync(await thai.PostAsJsonAsync("/api/v1/ai/providers/openai/test", new { model = "gpt-4o-mini" }, Ct));
        Assert.False(failed.GetProperty("ok").GetBoolean());
        Assert.Equal("vendor_invalid_key", failed.GetProperty("code").GetString());
        Assert.Equal("API key สำหรับ OpenAI ไม่ถูกต้องหรือถูกเพิกถอนแล้ว", failed.GetProperty("userMessage").GetString());
        Assert.DoesNotContain("sk-my-own-key", failed.GetProperty("vendorMessage").GetString(), StringComparison.Ordinal);

        api.Vendor.Handler = (context, _) => FakeVendor.JsonAsync(context, 429, """{"error":{"message":"slow down"}}""", new Dictionary<string, string> { ["Retry-After"] = "30" });
        var limited = await DataAsync(await client.PostAsJsonAsync("/api/v1/ai/providers/openai/test", new { model = "gpt-4o-mini" }, Ct));
        Assert.Equal("vendor_rate_limited", limited.GetProperty("code").GetString());
        Assert.Equal(30, limited.GetProperty("retryAfterSeconds").GetInt32());

        // Asking for the shared key when it is not allowed is refused before any call.
        var calls = api.Vendor.Requests.Count;
        var refused = await client.PostAsJsonAsync("/api/v1/ai/providers/openai/test", new { keySource = "shared" }, Ct);
        Assert.Contains((await Problem.ReadAsync(refused, refused.StatusCode)).Code, new[] { "ai_key_missing", "shared_key_not_allowed" });
        Assert.Equal(calls, api.Vendor.Requests.Count);
        Assert.Equal(HttpStatusCode.NotFound, (await client.PostAsJsonAsync("/api/v1/ai/providers/nope/test", new { }, Ct)).StatusCode);

        // Hugging Face (image only) is tested with a small image.
        api.Vendor.Handler = async (context, _) =>
        {
            context.Response.ContentType = "image/png";
            await context.Response.Body.WriteAsync(Png.Render(2, 2, new byte[32]));
        };
        await DataAsync(await client.PutAsJsonAsync("/api/v1/ai/providers/huggingface/personal-key", new { key = "hf_abcdefghijklmnop" }, Ct));
        var image = await DataAsync(await client.PostAsJsonAsync("/api/v1/ai/providers/huggingface/test", new { }, Ct));
        Assert.True(image.GetProperty("ok").GetBoolean());
        Assert.StartsWith("/hf-inference/models/", api.Vendor.Requests.Last().Path, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_key_test_is_a_vendor_call_with_its_usage_row_for_chat_images_and_speech()
    {
        var admin = await api.CreateUserAsync("admin");
        using var client = api.CreateClient(admin.Token);
        await DataAsync(await client.PutAsJsonAsync("/api/v1/ai/providers/openai/personal-key", new { key = "sk-usage-rows-0123456789" }, Ct));
        var png = Png.Render(2, 2, new byte[32]);
        api.Vendor.Handler = (context, request) => request.Path switch
        {
            "/v1/images/generations" => FakeVendor.JsonAsync(context, 200, $$$"""{"created":1,"data":[{"b64_json":"{{{Convert.ToBase64String(png)}}}"}],"usage":{"input_tokens":9,"output_tokens":100,"total_tokens":109}}"""),
            "/v1/audio/speech" => WriteAudio(context),
            _ => FakeVendor.JsonAsync(context, 200, ChatOk),
        };
        foreach (var model in (string[])["gpt-4o-mini", "gpt-image-1", "gpt-4o-mini-tts"])
        {
            Assert.True((await DataAsync(await client.PostAsJsonAsync("/api/v1/ai/providers/openai/test", new { model }, Ct))).GetProperty("ok").GetBoolean(), model);
        }
        api.Vendor.Handler = (context, _) => FakeVendor.JsonAsync(context, 429, """{"error":{"message":"slow down"}}""", new Dictionary<string, string> { ["Retry-After"] = "5" });
        Assert.Equal("vendor_rate_limited", (await DataAsync(await client.PostAsJsonAsync("/api/v1/ai/providers/openai/test", new { model = "gpt-image-1" }, Ct))).GetProperty("code").GetString());

        var rows = await api.Database.ScalarAsync<string>("""
            SELECT string_agg(concat_ws(' ', section, model_id, key_source, status, input_tokens, output_tokens, coalesce(trim_scale(cost)::text, 'null'), coalesce(error_code, '-')), ' | ' ORDER BY created_at)
            FROM usage_events WHERE user_id = $1 AND subject_type = 'key_test'
            """, admin.Id);
        Assert.Equal(string.Join(" | ",
            "chat gpt-4o-mini personal succeeded 8 1 0.0000018 -",        // 8 × 0.15/M + 1 × 0.60/M
            "image gpt-image-1 personal succeeded 9 100 0.004045 -",      // 9 × 5/M + 100 × 40/M
            "audio gpt-4o-mini-tts personal succeeded 2 0 0.0000012 -",    // "OK": 2 characters × 0.60/M
            "image gpt-image-1 personal failed 0 0 null vendor_rate_limited"), rows);

        static async Task WriteAudio(HttpContext context)
        {
            context.Response.ContentType = "audio/mpeg";
            await context.Response.Body.WriteAsync("ID3-fake-mp3"u8.ToArray());
        }
    }

    [Fact]
    public async Task A_canary_key_appears_in_no_response_no_log_and_no_column_except_as_ciphertext()
    {
        const string canary = "sk-CANARY-7f3e9a1b2c4d5e6f708192a3b4c5d6e7";
        using var root = api.CreateClient(await api.AdminTokenAsync());
        var admin = await api.CreateUserAsync("admin");
        using var adminClient = api.CreateClient(admin.Token);
        var bodies = new List<string>();
        async Task Capture(Task<HttpResponseMessage> call) => bodies.Add(await (await call).Content.ReadAsStringAsync(Ct));

        await Capture(root.PutAsJsonAsync("/api/v1/ai/providers/openrouter/shared-key", new { key = canary }, Ct));
        await Capture(root.PatchAsJsonAsync("/api/v1/ai/providers/openrouter/shared-key", new { allowAdmins = true }, Ct));
        await Capture(adminClient.PutAsJsonAsync("/api/v1/ai/providers/openrouter/personal-key", new { key = canary + "-personal" }, Ct));
        await Capture(root.GetAsync("/api/v1/ai/providers", Ct));
        await Capture(root.GetAsync("/api/v1/ai/providers/openrouter", Ct));
        await Capture(adminClient.GetAsync("/api/v1/ai/providers", Ct));
        await Capture(adminClient.GetAsync("/api/v1/ai/availability", Ct));
        // The vendor echoes the key back in its error, as some do.
        api.Vendor.Handler = (context, _) => FakeVendor.JsonAsync(context, 401, $$$"""{"error":{"message":"Invalid key {{{canary}}} for this account","code":401}}""");
        await Capture(root.PostAsJsonAsync("/api/v1/ai/providers/openrouter/test", new { keySource = "shared" }, Ct));
        await Capture(adminClient.PostAsJsonAsync("/api/v1/ai/providers/openrouter/test", new { }, Ct));
        api.Vendor.Handler = (context, _) => FakeVendor.JsonAsync(context, 500, $$$"""{"error":{"message":"upstream saw Authorization: Bearer {{{canary}}}"}}""");
        await Capture(root.PostAsJsonAsync("/api/v1/ai/providers/openrouter/test", new { keySource = "shared" }, Ct));
        await Capture(root.GetAsync("/openapi/v1.json", Ct));

        Assert.Contains(bodies, b => b.Contains("vendor_invalid_key", StringComparison.Ordinal)); // the calls did reach the vendor
        Assert.Contains(api.Vendor.Requests, r => r.Headers.GetValueOrDefault("Authorization") == $"Bearer {canary}");
        Assert.All(bodies, body => Assert.DoesNotContain("CANARY", body, StringComparison.Ordinal));
        Assert.True(api.Logs.Count > 10, "the log capture saw nothing");
        Assert.DoesNotContain(api.Logs, line => line.Contains("CANARY", StringComparison.Ordinal));

        // Every text-like column of every table, and the raw bytes of every bytea column.
        var columns = new List<(string Table, string Column, string Type)>();
        await using (var connection = new Npgsql.NpgsqlConnection(api.Database.ConnectionString))
        {
            await connection.OpenAsync(Ct);
            await using (var command = new Npgsql.NpgsqlCommand(
                "SELECT table_name, column_name, data_type FROM information_schema.columns WHERE table_schema = 'public' AND data_type IN ('text', 'jsonb', 'bytea', 'ARRAY', 'character varying')", connection))
            await using (var reader = await command.ExecuteReaderAsync(Ct))
            {
                while (await reader.ReadAsync(Ct))
                {
                    columns.Add((reader.GetString(0), reader.GetString(1), reader.GetString(2)));
                }
            }
            Assert.Contains(columns, c => c.Table == "provider_keys" && c.Column == "ciphertext");
            foreach (var (table, column, type) in columns)
            {
                var condition = type == "bytea"
                    ? $"position(convert_to('CANARY', 'UTF8') in \"{column}\") > 0"
                    : $"\"{column}\"::text LIKE '%CANARY%'";
                await using var probe = new Npgsql.NpgsqlCommand($"SELECT count(*) FROM \"{table}\" WHERE {condition}", connection);
                Assert.True((long)(await probe.ExecuteScalarAsync(Ct))! == 0, $"{table}.{column} holds the canary");
            }
        }
        Assert.Equal(2, await api.Database.ScalarAsync<long>("SELECT count(*) FROM provider_keys WHERE provider_id = 'openrouter'"));
        Assert.Equal(1, await api.Database.ScalarAsync<long>("SELECT count(*) FROM audit_logs WHERE action = 'provider.shared_key.set' AND entity_id = 'openrouter'"));
    }

    [Fact]
    public async Task Swapping_ciphertext_between_two_rows_fails_to_decrypt_and_says_so_without_the_key()
    {
        var first = await api.CreateUserAsync("admin");
        var second = await api.CreateUserAsync("admin");
        using var firstClient = api.CreateClient(first.Token);
        using var secondClient = api.CreateClient(second.Token);
        await DataAsync(await firstClient.PutAsJsonAsync("/api/v1/ai/providers/gemini/personal-key", new { key = "AIzaFirstKey-0123456789abcdefghij" }, Ct));
        await DataAsync(await secondClient.PutAsJsonAsync("/api/v1/ai/providers/gemini/personal-key", new { key = "AIzaSecondKey-0123456789abcdefghi" }, Ct));
        api.Vendor.Handler = (context, _) => FakeVendor.JsonAsync(context, 200, ChatOk);
        Assert.True((await DataAsync(await firstClient.PostAsJsonAsync("/api/v1/ai/providers/gemini/test", new { }, Ct))).GetProperty("ok").GetBoolean());

        await api.Database.ExecuteAsync($"""
            UPDATE provider_keys AS a SET ciphertext = b.ciphertext, wrapped_key = b.wrapped_key
            FROM provider_keys AS b
            WHERE a.provider_id = 'gemini' AND b.provider_id = 'gemini' AND a.owner_user_id = '{first.Id}' AND b.owner_user_id = '{second.Id}'
            """);
        var calls = api.Vendor.Requests.Count;
        var response = await firstClient.PostAsJsonAsync("/api/v1/ai/providers/gemini/test", new { }, Ct);
        var problem = await Problem.ReadAsync(response, HttpStatusCode.InternalServerError);
        Assert.Equal("key_decryption_failed", problem.Code);
        Assert.Equal(calls, api.Vendor.Requests.Count); // the other user's key was never sent
        Assert.DoesNotContain(api.Logs, line => line.Contains("SecondKey", StringComparison.Ordinal) || line.Contains("FirstKey", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_super_admin_adds_a_custom_OpenAI_compatible_provider_that_works_end_to_end()
    {
        using var root = api.CreateClient(await api.AdminTokenAsync());
        var created = await DataAsync(await root.PostAsJsonAsync("/api/v1/ai/providers", new
        {
            id = "acme-llm", displayName = "Acme LLM", baseUrl = api.Vendor.Url + "/v1/",
            models = new[] { new { id = "acme/large", capabilities = new[] { "chat", "content", "json" }, inputPrice = 1m, outputPrice = 2m } },
        }, Ct), HttpStatusCode.Created);
        Assert.True(created.GetProperty("isCustom").GetBoolean());
        Assert.Equal(HttpStatusCode.Conflict, (await root.PostAsJsonAsync("/api/v1/ai/providers", new
        {
            id = "acme-llm", displayName = "Again", baseUrl = api.Vendor.Url, models = new[] { new { id = "x", capabilities = new[] { "chat" } } },
        }, Ct)).StatusCode);
        var invalid = await root.PostAsJsonAsync("/api/v1/ai/providers", new { id = "Bad Id", displayName = "", baseUrl = api.Vendor.Url, models = new[] { new { id = "x", capabilities = new[] { "telepathy" } } } }, Ct);
        var problem = await Problem.ReadAsync(invalid, HttpStatusCode.BadRequest);
        var errors = problem.Root.GetProperty("errors");
        Assert.True(errors.TryGetProperty("id", out _) && errors.TryGetProperty("displayName", out _) && errors.TryGetProperty("models[0].capabilities", out _));

        await DataAsync(await root.PutAsJsonAsync("/api/v1/ai/providers/acme-llm/shared-key", new { key = "acme-secret-key-123" }, Ct));
        await DataAsync(await root.PutAsJsonAsync("/api/v1/ai/sections/chat", new { provider = "acme-llm", model = "acme/large" }, Ct));
        try
        {
            api.Vendor.Handler = (context, _) => FakeVendor.JsonAsync(context, 200, ChatOk);
            var result = await DataAsync(await root.PostAsJsonAsync("/api/v1/ai/providers/acme-llm/test", new { }, Ct));
            Assert.True(result.GetProperty("ok").GetBoolean());
            Assert.Equal("/v1/chat/completions", api.Vendor.Requests.Last().Path);
            Assert.Equal(HttpStatusCode.Conflict, (await root.DeleteAsync("/api/v1/ai/providers/acme-llm", Ct)).StatusCode); // a section uses it
        }
        finally
        {
            await DataAsync(await root.PutAsJsonAsync("/api/v1/ai/sections/chat", new { provider = "local", model = "local-text" }, Ct));
        }
        Assert.Equal(HttpStatusCode.NoContent, (await root.DeleteAsync("/api/v1/ai/providers/acme-llm", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await root.DeleteAsync("/api/v1/ai/providers/openai", Ct)).StatusCode); // catalogue providers are disabled, not deleted
        Assert.Equal(0, await api.Database.ScalarAsync<long>("SELECT count(*) FROM provider_keys WHERE provider_id = 'acme-llm'"));
        Assert.Equal(1, await api.Database.ScalarAsync<long>("SELECT count(*) FROM audit_logs WHERE action = 'provider.delete' AND entity_id = 'acme-llm'"));
    }
}

/// <summary>No vendor key anywhere: every section still works, on the built-in local provider.</summary>
public sealed class LocalProviderTests(ApiFactory api) : IClassFixture<ApiFactory>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task With_no_vendor_key_every_section_works_on_the_local_provider()
    {
        var user = await api.CreateUserAsync("user");
        using var client = api.CreateClient(user.Token);
        using var availability = JsonDocument.Parse(await client.GetStringAsync("/api/v1/ai/availability", Ct));
        foreach (var entry in availability.RootElement.GetProperty("data").EnumerateArray())
        {
            Assert.True(entry.GetProperty("available").GetBoolean(), entry.ToString());
            Assert.Equal("local", entry.GetProperty("provider").GetString());
            Assert.Equal("none", entry.GetProperty("keySource").GetString());
        }
        var test = await client.PostAsJsonAsync("/api/v1/ai/providers/local/test", new { }, Ct);
        using (var body = JsonDocument.Parse(await test.Content.ReadAsStringAsync(Ct)))
        {
            Assert.True(body.RootElement.GetProperty("data").GetProperty("ok").GetBoolean());
        }
        Assert.Equal(0, await api.Database.ScalarAsync<long>("SELECT count(*) FROM provider_keys"));

        // And each section's resolved client does its job, through the same services the Worker will use.
        await using var scope = api.Services.CreateAsyncScope();
        var access = scope.ServiceProvider.GetRequiredService<AiAccess>();
        var clients = scope.ServiceProvider.GetRequiredService<VendorClientFactory>();
        var caller = new AiCaller(user.Id, "user");
        foreach (var section in Sections.All)
        {
            var decision = await access.ForSectionAsync(caller, section, null, null, Ct);
            var target = await access.TargetAsync(caller, decision, Ct);
            switch (section)
            {
                case Sections.Image:
                    using (var images = clients.CreateImageGenerator(target))
                    {
                        var image = (DataContent)(await images.GenerateAsync(new ImageGenerationRequest("sunset"), null, Ct)).Contents.Single();
                        Assert.Equal("image/png", image.MediaType);
                    }
                    break;
                case Sections.Audio:
                    using (var speech = clients.CreateSpeechClient(target))
                    {
                        var audio = (DataContent)(await speech.GetAudioAsync("A short podcast intro", null, Ct)).Contents.Single();
                        Assert.Equal("audio/wav", audio.MediaType);
                    }
                    break;
                default:
                    using (var chat = clients.CreateChatClient(target))
                    {
                        var answer = await chat.GetResponseAsync("Write a haiku", cancellationToken: Ct);
                        Assert.Contains("Write a haiku", answer.Text, StringComparison.Ordinal);
                    }
                    break;
            }
        }
    }
}

/// <summary>Custom base URLs with the operator's default: no internal addresses.</summary>
public sealed class BaseUrlSsrfTests(BaseUrlSsrfTests.StrictFactory api) : IClassFixture<BaseUrlSsrfTests.StrictFactory>
{
    public sealed class StrictFactory : ApiFactory
    {
        protected override IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?> { ["Ai:AllowPrivateBaseUrls"] = "false" };
    }

    [Theory]
    [InlineData("http://127.0.0.1:8080/v1")]
    [InlineData("https://127.0.0.1/v1")]
    [InlineData("https://localhost/v1")]
    [InlineData("https://169.254.169.254/latest")]
    [InlineData("https://10.1.2.3/v1")]
    [InlineData("https://172.20.0.5/v1")]
    [InlineData("https://192.168.1.10/v1")]
    [InlineData("https://[::1]/v1")]
    [InlineData("https://[fd00::1]/v1")]
    [InlineData("https://[::ffff:10.0.0.1]/v1")]
    [InlineData("https://user:pass@8.8.8.8/v1")]
    [InlineData("ftp://8.8.8.8/v1")]
    public async Task Internal_or_odd_base_URLs_are_refused(string url)
    {
        using var root = api.CreateClient(await api.AdminTokenAsync());
        var response = await root.PostAsJsonAsync("/api/v1/ai/providers", new
        {
            id = "ssrf-" + Guid.NewGuid().ToString("N")[..8], displayName = "Probe", baseUrl = url, models = new[] { new { id = "m", capabilities = new[] { "chat" } } },
        }, TestContext.Current.CancellationToken);
        var problem = await Problem.ReadAsync(response, HttpStatusCode.BadRequest);
        Assert.Equal("invalid_base_url", problem.Code);
        Assert.Equal(0, await api.Database.ScalarAsync<long>("SELECT count(*) FROM providers WHERE is_custom"));
    }

    [Fact]
    public async Task A_public_https_address_is_accepted()
    {
        using var root = api.CreateClient(await api.AdminTokenAsync());
        var response = await root.PostAsJsonAsync("/api/v1/ai/providers", new
        {
            id = "public-llm", displayName = "Public", baseUrl = "https://8.8.8.8/v1", models = new[] { new { id = "m", capabilities = new[] { "chat" } } },
        }, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        await root.DeleteAsync("/api/v1/ai/providers/public-llm", TestContext.Current.CancellationToken);
    }
}
