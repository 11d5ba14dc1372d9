using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AiPrompts.Tests.Infrastructure;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace AiPrompts.Tests.Templates;

/// <summary>
/// Drives every operation of contracts/prompt-versions.openapi.yaml and checks each answer against the
/// contract itself: declared status codes, response schemas (read from the YAML), the Thai examples.
/// </summary>
public sealed class PromptVersionContractTests(ApiFactory fixture) : IClassFixture<ApiFactory>
{
    private const string Type = "ocr_extraction";
    private static readonly OpenApiContract Contract = OpenApiContract.Load("prompt-versions.openapi.yaml");

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static string Url(string path) => "/api" + path;

    [Fact]
    public void The_app_serves_exactly_the_paths_and_methods_of_the_contract_under_api()
    {
        Assert.Equal(
            ["activatePromptVersion", "createPromptVersion", "deletePromptVersion", "listPromptVersions", "updatePromptNote"],
            Contract.Operations.Select(o => o.OperationId).Order());
        var endpoints = fixture.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>().ToList();
        foreach (var (path, method, operationId) in Contract.Operations)
        {
            var served = endpoints.Where(e => Normalise(e.RoutePattern.RawText!) == "/api" + path
                && (e.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods.Contains(method) ?? false)).ToList();
            Assert.True(served.Count == 1, $"{method} /api{path} ({operationId}) is served by {served.Count} endpoints");
        }

        static string Normalise(string pattern) => System.Text.RegularExpressions.Regex.Replace(pattern, ":int}", "}").TrimEnd('/');
    }

    [Fact]
    public async Task Every_operation_answers_with_the_contracts_statuses_schemas_and_Thai_examples_and_the_named_ones_are_audited()
    {
        var admin = await fixture.CreateUserAsync("super_admin");
        using var client = fixture.CreateClient(admin.Token);
        using var thai = fixture.CreateClient(admin.Token, "th");

        var empty = await Contract.CheckAsync("listPromptVersions", await client.GetAsync(Url($"/ai/prompts/{Type}"), Ct));
        Assert.Equal(0, empty!.Value.GetProperty("data").GetArrayLength());

        // createPromptVersion: 201 with the next number, inactive.
        var templates = new[] { "Extract fields from the following text:\n{{ocr_text}}\nReturn JSON.", "v2 {{ocr_text}}", "v3 {{ ocr_text }} in {{language}}" };
        var numbers = new List<int>();
        foreach (var template in templates)
        {
            var response = await client.PostAsJsonAsync(Url($"/ai/prompts/{Type}"), new { template }, Ct);
            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
            var created = (await Contract.CheckAsync("createPromptVersion", response))!.Value.GetProperty("data");
            Assert.Equal(Type, created.GetProperty("promptType").GetString());
            Assert.Equal(template, created.GetProperty("template").GetString());
            Assert.False(created.GetProperty("isActive").GetBoolean());
            Assert.Equal(JsonValueKind.Null, created.GetProperty("activatedAt").ValueKind);
            numbers.Add(created.GetProperty("versionNumber").GetInt32());
            Assert.Equal($"/api/ai/prompts/{Type}/{numbers[^1]}", response.Headers.Location?.ToString());
        }
        Assert.Equal([1, 2, 3], numbers);

        // The contract's 400, in Thai exactly as its example, and in English otherwise.
        var missing = await thai.PostAsJsonAsync(Url($"/ai/prompts/{Type}"), new { template = "Extract the fields. Return JSON." }, Ct);
        Assert.Equal(HttpStatusCode.BadRequest, missing.StatusCode);
        var thaiError = (await Contract.CheckAsync("createPromptVersion", missing))!.Value;
        var example = Contract.Example("createPromptVersion", 400);
        Assert.Equal(example.GetProperty("message").GetString(), thaiError.GetProperty("message").GetString());
        Assert.Equal(example.GetProperty("userMessage").GetString(), thaiError.GetProperty("userMessage").GetString());
        Assert.False(string.IsNullOrWhiteSpace(thaiError.GetProperty("recoveryAction").GetString()));
        Assert.Equal("template_placeholder_missing", thaiError.GetProperty("code").GetString());
        var english = (await Contract.CheckAsync("createPromptVersion", await client.PostAsJsonAsync(Url($"/ai/prompts/{Type}"), new { template = "No placeholder" }, Ct)))!.Value;
        Assert.Equal("The template must contain the {{ocr_text}} placeholder.", english.GetProperty("message").GetString());
        Assert.Equal("Add {{ocr_text}} to the template before saving.", english.GetProperty("userMessage").GetString());

        // listPromptVersions: newest version first.
        var listed = (await Contract.CheckAsync("listPromptVersions", await client.GetAsync(Url($"/ai/prompts/{Type}"), Ct)))!.Value.GetProperty("data");
        Assert.Equal([3, 2, 1], listed.EnumerateArray().Select(v => v.GetProperty("versionNumber").GetInt32()));

        // activatePromptVersion: one active at a time.
        foreach (var version in new[] { 2, 3 })
        {
            var activated = await client.PostAsync(Url($"/ai/prompts/{Type}/{version}/activate"), null, Ct);
            Assert.Equal(HttpStatusCode.OK, activated.StatusCode);
            var data = (await Contract.CheckAsync("activatePromptVersion", activated))!.Value.GetProperty("data");
            Assert.True(data.GetProperty("isActive").GetBoolean());
            Assert.Equal(version, data.GetProperty("versionNumber").GetInt32());
            Assert.NotEqual(JsonValueKind.Null, data.GetProperty("activatedAt").ValueKind);
        }
        var afterActivation = (await Contract.CheckAsync("listPromptVersions", await client.GetAsync(Url($"/ai/prompts/{Type}"), Ct)))!.Value.GetProperty("data");
        Assert.Equal([3], afterActivation.EnumerateArray().Where(v => v.GetProperty("isActive").GetBoolean()).Select(v => v.GetProperty("versionNumber").GetInt32()));
        Assert.Equal(HttpStatusCode.NotFound, (await client.PostAsync(Url($"/ai/prompts/{Type}/99/activate"), null, Ct)).StatusCode);
        await Contract.CheckAsync("activatePromptVersion", await client.PostAsync(Url($"/ai/prompts/{Type}/99/activate"), null, Ct));

        // deletePromptVersion: never the active one (the contract's Thai 400); 204; then 404.
        var deleteActive = await thai.DeleteAsync(Url($"/ai/prompts/{Type}/3"), Ct);
        Assert.Equal(HttpStatusCode.BadRequest, deleteActive.StatusCode);
        var activeError = (await Contract.CheckAsync("deletePromptVersion", deleteActive))!.Value;
        var deleteExample = Contract.Example("deletePromptVersion", 400);
        Assert.Equal(deleteExample.GetProperty("message").GetString(), activeError.GetProperty("message").GetString());
        Assert.Equal(deleteExample.GetProperty("userMessage").GetString(), activeError.GetProperty("userMessage").GetString());
        var deleted = await client.DeleteAsync(Url($"/ai/prompts/{Type}/2"), Ct);
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        await Contract.CheckAsync("deletePromptVersion", deleted);
        var gone = await client.DeleteAsync(Url($"/ai/prompts/{Type}/2"), Ct);
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        var notFound = (await Contract.CheckAsync("deletePromptVersion", gone))!.Value;
        Assert.False(string.IsNullOrWhiteSpace(notFound.GetProperty("userMessage").GetString()));

        // updatePromptNote: the note only, null clears it.
        var noted = await client.PatchAsJsonAsync(Url($"/ai/prompts/{Type}/1/note"), new { manualNote = "ดีที่สุดสำหรับใบกำกับภาษี" }, Ct);
        Assert.Equal(HttpStatusCode.OK, noted.StatusCode);
        var note = (await Contract.CheckAsync("updatePromptNote", noted))!.Value.GetProperty("data");
        Assert.Equal("ดีที่สุดสำหรับใบกำกับภาษี", note.GetProperty("manualNote").GetString());
        Assert.Equal(templates[0], note.GetProperty("template").GetString());
        var cleared = (await Contract.CheckAsync("updatePromptNote", await client.PatchAsJsonAsync(Url($"/ai/prompts/{Type}/1/note"), new { manualNote = (string?)null }, Ct)))!.Value;
        Assert.Equal(JsonValueKind.Null, cleared.GetProperty("data").GetProperty("manualNote").ValueKind);
        var missingVersion = await client.PatchAsJsonAsync(Url($"/ai/prompts/{Type}/99/note"), new { manualNote = "x" }, Ct);
        Assert.Equal(HttpStatusCode.NotFound, missingVersion.StatusCode);
        await Contract.CheckAsync("updatePromptNote", missingVersion);
        var tooLong = await client.PatchAsJsonAsync(Url($"/ai/prompts/{Type}/1/note"), new { manualNote = new string('n', 2001) }, Ct);
        Assert.Equal("validation_failed", (await Problem.ReadAsync(tooLong, HttpStatusCode.BadRequest)).Code);
        var absent = await client.PatchAsJsonAsync(Url($"/ai/prompts/{Type}/1/note"), new { }, Ct);
        Assert.Equal("validation_failed", (await Problem.ReadAsync(absent, HttpStatusCode.BadRequest)).Code);
        Assert.Equal(2000, (await Contract.CheckAsync("updatePromptNote",
            await client.PatchAsJsonAsync(Url($"/ai/prompts/{Type}/1/note"), new { manualNote = new string('n', 2000) }, Ct)))!.Value
            .GetProperty("data").GetProperty("manualNote").GetString()!.Length);
        Assert.Equal(3, await fixture.Database.ScalarAsync<int>("SELECT next_version FROM prompt_templates WHERE prompt_type = 'ocr_extraction'") - 1);

        // The audit trail: create, delete and activate, as the contract names them, and nothing for the note.
        var rows = await AuditAsync(client);
        Assert.Equal(
            ["prompt_version.activate", "prompt_version.activate", "prompt_version.create", "prompt_version.create", "prompt_version.create", "prompt_version.delete"],
            rows.Select(r => r.GetProperty("action").GetString()).Order());
        Assert.All(rows, r => Assert.Equal(admin.Id, r.GetProperty("actorUserId").GetGuid()));
        Assert.All(rows, r => Assert.Equal(admin.Email, r.GetProperty("actorEmail").GetString()));
        var lastActivation = rows.First(r => r.GetProperty("action").GetString() == "prompt_version.activate");
        Assert.Equal($"{Type}/3", lastActivation.GetProperty("entityId").GetString());
        Assert.Equal(2, lastActivation.GetProperty("before").GetProperty("activeVersion").GetInt32());
        Assert.Equal(3, lastActivation.GetProperty("after").GetProperty("activeVersion").GetInt32());
        var deletion = rows.Single(r => r.GetProperty("action").GetString() == "prompt_version.delete");
        Assert.Equal("v2 {{ocr_text}}", deletion.GetProperty("before").GetProperty("template").GetString());
        Assert.Equal(JsonValueKind.Null, deletion.GetProperty("after").ValueKind);
        var creation = rows.Single(r => r.GetProperty("action").GetString() == "prompt_version.create" && r.GetProperty("entityId").GetString() == $"{Type}/1");
        Assert.Equal(templates[0], creation.GetProperty("after").GetProperty("template").GetString());
        Assert.True(DateTimeOffset.UtcNow - creation.GetProperty("createdAt").GetDateTimeOffset() < TimeSpan.FromMinutes(5));
    }

    [Fact]
    public async Task Without_a_token_every_operation_is_401_and_without_system_manage_all_it_is_403_and_changes_nothing()
    {
        var admin = await fixture.CreateUserAsync("admin");
        var user = await fixture.CreateUserAsync("user");
        using var anonymous = fixture.CreateClient();
        foreach (var token in new[] { admin.Token, user.Token })
        {
            using var client = fixture.CreateClient(token, "th");
            foreach (var (operationId, send) in Calls(client))
            {
                var response = await send();
                Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
                var body = (await Contract.CheckAsync(operationId, response))!.Value;
                Assert.Equal("forbidden", body.GetProperty("code").GetString());
                Assert.Equal("คุณไม่มีสิทธิ์ดำเนินการนี้", body.GetProperty("userMessage").GetString());
            }
        }
        foreach (var (operationId, send) in Calls(anonymous))
        {
            var response = await send();
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            await Contract.CheckAsync(operationId, response);
        }
        Assert.Equal(0L, await fixture.Database.ScalarAsync<long>("SELECT count(*) FROM prompt_template_versions WHERE prompt_type = 'contract_guard'"));
        Assert.Equal(0L, await fixture.Database.ScalarAsync<long>("SELECT count(*) FROM audit_logs WHERE entity_type = 'prompt_template_version' AND entity_id LIKE 'contract_guard/%'"));

        static IEnumerable<(string, Func<Task<HttpResponseMessage>>)> Calls(HttpClient client) =>
        [
            ("listPromptVersions", () => client.GetAsync(Url("/ai/prompts/contract_guard"), Ct)),
            ("createPromptVersion", () => client.PostAsJsonAsync(Url("/ai/prompts/contract_guard"), new { template = "{{ocr_text}}" }, Ct)),
            ("deletePromptVersion", () => client.DeleteAsync(Url("/ai/prompts/contract_guard/1"), Ct)),
            ("activatePromptVersion", () => client.PostAsync(Url("/ai/prompts/contract_guard/1/activate"), null, Ct)),
            ("updatePromptNote", () => client.PatchAsJsonAsync(Url("/ai/prompts/contract_guard/1/note"), new { manualNote = "x" }, Ct)),
        ];
    }

    [Fact]
    public async Task A_template_that_does_not_fit_its_type_gets_its_own_400_and_nothing_is_written()
    {
        using var client = fixture.CreateClient(await fixture.AdminTokenAsync());
        var type = await DefineTypeAsync(client, "invoice_check", ["ocr_text"], ["ocr_text", "language"]);
        var before = await fixture.Database.ScalarAsync<long>("SELECT count(*) FROM audit_logs");

        async Task<string> CodeAsync(object body)
        {
            var response = await client.PostAsJsonAsync(Url($"/ai/prompts/{type}"), body, Ct);
            var problem = (await Contract.CheckAsync("createPromptVersion", response))!.Value;
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            return problem.GetProperty("code").GetString()!;
        }

        Assert.Equal("template_placeholder_unknown", await CodeAsync(new { template = "{{ocr_text}} for {{customer}}" }));
        Assert.Equal("template_syntax_invalid", await CodeAsync(new { template = "{{ocr_text}} then {{language" }));
        Assert.Equal("template_syntax_invalid", await CodeAsync(new { template = "{{ocr_text}} {{ not a name }}" }));
        Assert.Equal("template_placeholder_missing", await CodeAsync(new { template = "{{language}} only" }));
        Assert.Equal("validation_failed", await CodeAsync(new { template = "" }));
        Assert.Equal("validation_failed", await CodeAsync(new { }));
        Assert.Equal("prompt_type_unknown", (await Problem.ReadAsync(await client.PostAsJsonAsync(Url("/ai/prompts/no_such_type"), new { template = "{{ocr_text}}" }, Ct), HttpStatusCode.BadRequest)).Code);

        Assert.Equal(0L, await fixture.Database.ScalarAsync<long>("SELECT count(*) FROM prompt_template_versions WHERE prompt_type = $1", type));
        Assert.Equal(before, await fixture.Database.ScalarAsync<long>("SELECT count(*) FROM audit_logs"));
        Assert.Equal(1, await fixture.Database.ScalarAsync<int>("SELECT next_version FROM prompt_templates WHERE prompt_type = $1", type));

        // JSON examples with single braces are plain text, and the version numbering had no gap.
        var fine = await client.PostAsJsonAsync(Url($"/ai/prompts/{type}"), new { template = "Answer like {\"total\": {\"amount\": 1}}\n{{ocr_text}}" }, Ct);
        Assert.Equal(1, (await Contract.CheckAsync("createPromptVersion", fine))!.Value.GetProperty("data").GetProperty("versionNumber").GetInt32());
        var listUnknown = await client.GetAsync(Url("/ai/prompts/no_such_type"), Ct);
        Assert.Equal(0, (await Contract.CheckAsync("listPromptVersions", listUnknown))!.Value.GetProperty("data").GetArrayLength());
    }

    [Fact]
    public async Task The_diff_shows_the_lines_that_changed_between_two_versions()
    {
        using var client = fixture.CreateClient(await fixture.AdminTokenAsync());
        var type = await DefineTypeAsync(client, "diff_check", ["ocr_text"], ["ocr_text"]);
        await client.PostAsJsonAsync(Url($"/ai/prompts/{type}"), new { template = "Read this:\n{{ocr_text}}\nReturn JSON.\nBe brief." }, Ct);
        await client.PostAsJsonAsync(Url($"/ai/prompts/{type}"), new { template = "Read this carefully:\n{{ocr_text}}\nReturn JSON.\nBe brief." }, Ct);
        var diff = await client.GetFromJsonAsync<JsonElement>(Url($"/ai/prompts/{type}/diff?from=1&to=2"), Ct);
        var lines = diff.GetProperty("data").GetProperty("lines").EnumerateArray().Select(l => $"{l.GetProperty("op").GetString()}:{l.GetProperty("text").GetString()}").ToArray();
        Assert.Equal(["delete:Read this:", "insert:Read this carefully:", "equal:{{ocr_text}}", "equal:Return JSON.", "equal:Be brief."], lines);
        Assert.Contains("-Read this:\n+Read this carefully:\n", diff.GetProperty("data").GetProperty("unified").GetString());

        // A template's spacing is part of the prompt: a version that only indents a line or adds a trailing space differs there.
        await client.PostAsJsonAsync(Url($"/ai/prompts/{type}"), new { template = "Read this carefully:\n  {{ocr_text}}\nReturn JSON. \nBe brief." }, Ct);
        var spacing = await client.GetFromJsonAsync<JsonElement>(Url($"/ai/prompts/{type}/diff?from=2&to=3"), Ct);
        var changed = spacing.GetProperty("data").GetProperty("lines").EnumerateArray().Select(l => $"{l.GetProperty("op").GetString()}:{l.GetProperty("text").GetString()}").ToArray();
        Assert.Equal(["equal:Read this carefully:", "delete:{{ocr_text}}", "delete:Return JSON.", "insert:  {{ocr_text}}", "insert:Return JSON. ", "equal:Be brief."], changed);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync(Url($"/ai/prompts/{type}/diff?from=1&to=9"), Ct)).StatusCode);
    }

    private static async Task<List<JsonElement>> AuditAsync(HttpClient client)
    {
        // The type's versions by an entityId prefix (what the console's audit trail of a template asks for).
        var page = await client.GetFromJsonAsync<JsonElement>($"/api/v1/audit-logs?entityType=prompt_template_version&entityId={Type}/*&limit=100", Ct);
        var rows = page.GetProperty("data").EnumerateArray().ToList();
        Assert.All(rows, r => Assert.StartsWith($"{Type}/", r.GetProperty("entityId").GetString(), StringComparison.Ordinal));
        return rows;
    }

    internal static async Task<string> DefineTypeAsync(HttpClient client, string name, string[] required, string[] allowed, object? outputSchema = null)
    {
        var response = await client.PutAsJsonAsync($"/api/ai/prompt-types/{name}", new
        {
            description = "test type",
            section = "content",
            requiredPlaceholders = required,
            allowedVariables = allowed,
            outputSchema,
        }, Ct);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync(Ct));
        return name;
    }
}
