using System.Diagnostics;
using System.Text.Json;
using AiPrompts.Core.Errors;
using AiPrompts.Core.Keys;
using AiPrompts.Core.Providers;
using AiPrompts.Core.Templates;
using AiPrompts.Core.Vendors;
using AiPrompts.Tests.Infrastructure;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;
using OpenTelemetry.Trace;

namespace AiPrompts.Tests.Vendors;

#pragma warning disable MEAI001

/// <summary>
/// What the assistants and the studio build on: function tools and structured output through the library's
/// adapters (an OpenAI-compatible fake on a real socket, and the local model), every attempt one HTTP
/// request, and images and speech traced like chat.
/// </summary>
public sealed class ToolsAndStructuredOutputTests : IAsyncLifetime
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private FakeVendor _vendor = null!;
    private ServiceProvider _services = null!;

    private static readonly JsonElement WeatherSchema = JsonDocument.Parse("""
        {"type": "object", "additionalProperties": false, "required": ["city", "unit"],
         "properties": {"city": {"type": "string", "minLength": 2}, "unit": {"enum": ["celsius", "fahrenheit"]}}}
        """).RootElement.Clone();

    private static readonly JsonElement AnswerSchema = JsonDocument.Parse("""
        {"type": "object", "required": ["city", "temperature", "tags"], "additionalProperties": false,
         "properties": {
           "city": {"type": "string"},
           "temperature": {"type": "number", "minimum": -90, "maximum": 60},
           "tags": {"type": "array", "minItems": 1, "items": {"enum": ["sunny", "rain", "wind"]}},
           "note": {"oneOf": [{"type": "string", "maxLength": 40}, {"type": "null"}]}}}
        """).RootElement.Clone();

    private static AIFunctionDeclaration Weather => AIFunctionFactory.CreateDeclaration("get_weather", "The weather now in a city.", WeatherSchema);

    public async ValueTask InitializeAsync()
    {
        _vendor = await FakeVendor.StartAsync();
        _services = VendorClients.Build(o => o.Timeout = TimeSpan.FromSeconds(20)); // a cold first call on a loaded machine takes a while
    }

    public async ValueTask DisposeAsync()
    {
        await _services.DisposeAsync();
        await _vendor.DisposeAsync();
    }

    private VendorClientFactory Factory => _services.GetRequiredService<VendorClientFactory>();

    private VendorTarget OpenAI(params string[] capabilities) =>
        new("openai", ProviderKinds.OpenAICompatible, _vendor.Url + "/v1", "gpt-4o-mini", new VendorCredential("sk-test-0123456789"), KeySource.Personal,
            new ModelPrices(0.15m, 0.60m), capabilities);

    private static readonly VendorTarget Local = new("local", ProviderKinds.Local, null, "local-text", null, KeySource.None, new ModelPrices(0, 0),
        [Capabilities.Chat, Capabilities.Json, Capabilities.Tools, Capabilities.JsonSchema]);

    [Fact]
    public async Task A_tool_call_round_trip_through_an_OpenAI_compatible_vendor()
    {
        _vendor.Handler = (context, _) => FakeVendor.JsonAsync(context, 200, """
            {"id":"chatcmpl-t1","object":"chat.completion","created":1760000000,"model":"gpt-4o-mini",
             "choices":[{"index":0,"message":{"role":"assistant","content":null,
               "tool_calls":[{"id":"call_abc","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Hanoi\",\"unit\":\"celsius\"}"}}]},
               "finish_reason":"tool_calls"}],
             "usage":{"prompt_tokens":60,"completion_tokens":18,"total_tokens":78}}
            """);
        using var client = Factory.CreateChatClient(OpenAI(Capabilities.Tools));
        List<ChatMessage> conversation = [new(ChatRole.User, "What is the weather in Hanoi?")];
        var options = new ChatOptions { Tools = [Weather] };
        var first = await client.GetResponseAsync(conversation, options, Ct);

        Assert.Equal(ChatFinishReason.ToolCalls, first.FinishReason);
        var call = Assert.Single(first.Messages.SelectMany(m => m.Contents).OfType<FunctionCallContent>());
        Assert.Equal("call_abc", call.CallId);
        Assert.Equal("get_weather", call.Name);
        Assert.Equal("Hanoi", call.Arguments!["city"]?.ToString());
        Assert.Equal(18, MeteredUsage.From(first.AdditionalProperties)!.OutputTokens);
        using (var sent = JsonDocument.Parse(_vendor.Requests.Last().Body))
        {
            var tool = Assert.Single(sent.RootElement.GetProperty("tools").EnumerateArray());
            Assert.Equal("function", tool.GetProperty("type").GetString());
            Assert.Equal("get_weather", tool.GetProperty("function").GetProperty("name").GetString());
            Assert.Equal(["city", "unit"], tool.GetProperty("function").GetProperty("parameters").GetProperty("required").EnumerateArray().Select(e => e.GetString()));
        }

        // The caller runs the tool and sends its result back.
        conversation.AddRange(first.Messages);
        conversation.Add(new ChatMessage(ChatRole.Tool, [new FunctionResultContent("call_abc", JsonDocument.Parse("""{"temperature":31,"sky":"sunny"}""").RootElement)]));
        _vendor.Handler = (context, _) => FakeVendor.JsonAsync(context, 200, """
            {"id":"chatcmpl-t2","model":"gpt-4o-mini","choices":[{"index":0,"message":{"role":"assistant","content":"It is 31 °C and sunny in Hanoi."},"finish_reason":"stop"}],
             "usage":{"prompt_tokens":90,"completion_tokens":10,"total_tokens":100}}
            """);
        var second = await client.GetResponseAsync(conversation, options, Ct);
        Assert.Equal("It is 31 °C and sunny in Hanoi.", second.Text);
        using var back = JsonDocument.Parse(_vendor.Requests.Last().Body);
        var messages = back.RootElement.GetProperty("messages").EnumerateArray().ToList();
        Assert.Equal(["user", "assistant", "tool"], messages.Select(m => m.GetProperty("role").GetString()));
        Assert.Equal("call_abc", messages[1].GetProperty("tool_calls")[0].GetProperty("id").GetString());
        Assert.Equal("call_abc", messages[2].GetProperty("tool_call_id").GetString());
        Assert.Contains("31", messages[2].GetProperty("content").ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_streamed_tool_call_arrives_whole_from_its_deltas()
    {
        _vendor.Handler = (context, _) => FakeVendor.SseAsync(context,
        [
            """{"id":"s1","object":"chat.completion.chunk","model":"gpt-4o-mini","choices":[{"index":0,"delta":{"role":"assistant","tool_calls":[{"index":0,"id":"call_s","type":"function","function":{"name":"get_weather","arguments":""}}]},"finish_reason":null}]}""",
            """{"id":"s1","object":"chat.completion.chunk","model":"gpt-4o-mini","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"city\":\"Hu"}}]},"finish_reason":null}]}""",
            """{"id":"s1","object":"chat.completion.chunk","model":"gpt-4o-mini","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"e\",\"unit\":\"celsius\"}"}}]},"finish_reason":null}]}""",
            """{"id":"s1","object":"chat.completion.chunk","model":"gpt-4o-mini","choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}""",
            """{"id":"s1","object":"chat.completion.chunk","model":"gpt-4o-mini","choices":[],"usage":{"prompt_tokens":50,"completion_tokens":12,"total_tokens":62}}""",
            "[DONE]",
        ]);
        using var client = Factory.CreateChatClient(OpenAI(Capabilities.Tools));
        List<ChatResponseUpdate> updates = [];
        await foreach (var update in client.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "Weather in Hue?")], new ChatOptions { Tools = [Weather] }, Ct))
        {
            updates.Add(update);
        }
        var response = updates.ToChatResponse();
        Assert.Equal(ChatFinishReason.ToolCalls, response.FinishReason);
        var call = Assert.Single(response.Messages.SelectMany(m => m.Contents).OfType<FunctionCallContent>());
        Assert.Equal("Hue", call.Arguments!["city"]?.ToString());
        Assert.Equal(12, MeteredUsage.From(updates[^1].AdditionalProperties)!.OutputTokens);
    }

    [Fact]
    public async Task Structured_output_uses_json_schema_where_the_model_has_it_and_JSON_mode_plus_validation_where_it_has_only_that()
    {
        _vendor.Handler = (context, _) => FakeVendor.JsonAsync(context, 200, """
            {"id":"c-js","model":"gpt-4o-mini","choices":[{"index":0,"message":{"role":"assistant","content":"{\"city\":\"Hanoi\",\"temperature\":31,\"tags\":[\"sunny\"],\"note\":null}"},"finish_reason":"stop"}],
             "usage":{"prompt_tokens":40,"completion_tokens":20,"total_tokens":60}}
            """);
        var strict = OpenAI(Capabilities.Json, Capabilities.JsonSchema);
        using (var client = Factory.CreateChatClient(strict))
        {
            var options = StructuredOutput.Request(new ChatOptions(), strict, AnswerSchema, "weather");
            var answer = await client.GetResponseAsync([new ChatMessage(ChatRole.User, "Weather in Hanoi as JSON")], options, Ct);
            var judged = StructuredOutput.Check(answer.Text, AnswerSchema);
            Assert.True(judged.Valid, string.Join("; ", judged.Errors));
            using var sent = JsonDocument.Parse(_vendor.Requests.Last().Body);
            var format = sent.RootElement.GetProperty("response_format");
            Assert.Equal("json_schema", format.GetProperty("type").GetString());
            Assert.Equal("weather", format.GetProperty("json_schema").GetProperty("name").GetString());
            // The adapter makes the schema strict-mode ready (every property listed as required), which this schema allows: note may be null.
            Assert.Superset(new HashSet<string?> { "city", "temperature", "tags" }, format.GetProperty("json_schema").GetProperty("schema").GetProperty("required").EnumerateArray().Select(e => e.GetString()).ToHashSet());
        }

        // A model with JSON mode only: json_object, the schema in the instructions, and our validator as the judge.
        _vendor.Handler = (context, _) => FakeVendor.JsonAsync(context, 200, """
            {"id":"c-jm","model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"{\"city\":\"Hanoi\",\"temperature\":\"hot\",\"tags\":[]}"},"finish_reason":"stop"}]}
            """);
        var loose = OpenAI(Capabilities.Json);
        using (var client = Factory.CreateChatClient(loose))
        {
            var answer = await client.GetResponseAsync([new ChatMessage(ChatRole.User, "Weather in Hanoi as JSON")], StructuredOutput.Request(new ChatOptions(), loose, AnswerSchema), Ct);
            var judged = StructuredOutput.Check(answer.Text, AnswerSchema);
            Assert.False(judged.Valid);
            Assert.Contains("$.temperature: expected \"number\", got \"string\"", judged.Errors);
            Assert.Contains("$.tags: at least 1 items", judged.Errors);
            using var sent = JsonDocument.Parse(_vendor.Requests.Last().Body);
            Assert.Equal("json_object", sent.RootElement.GetProperty("response_format").GetProperty("type").GetString());
            var system = sent.RootElement.GetProperty("messages")[0];
            Assert.Equal("system", system.GetProperty("role").GetString());
            Assert.Contains("\"temperature\"", system.GetProperty("content").ToString(), StringComparison.Ordinal);
        }

        // Neither: the instructions alone, and no response_format the vendor would refuse.
        var plain = OpenAI();
        using (var client = Factory.CreateChatClient(plain))
        {
            await client.GetResponseAsync([new ChatMessage(ChatRole.User, "Weather")], StructuredOutput.Request(new ChatOptions(), plain, AnswerSchema), Ct);
            using var sent = JsonDocument.Parse(_vendor.Requests.Last().Body);
            Assert.False(sent.RootElement.TryGetProperty("response_format", out _));
        }
    }

    [Fact]
    public async Task The_local_model_calls_a_tool_it_is_asked_for_answers_with_the_result_and_fills_a_schema()
    {
        using var client = Factory.CreateChatClient(Local);
        var options = new ChatOptions { Tools = [Weather] };

        // Not named, not required: a plain answer.
        var plain = await client.GetResponseAsync([new ChatMessage(ChatRole.User, "Hello there")], options, Ct);
        Assert.Empty(plain.Messages.SelectMany(m => m.Contents).OfType<FunctionCallContent>());

        List<ChatMessage> conversation = [new(ChatRole.User, "Use get_weather for Hanoi, please.")];
        var first = await client.GetResponseAsync(conversation, options, Ct);
        Assert.Equal(ChatFinishReason.ToolCalls, first.FinishReason);
        var call = Assert.Single(first.Messages.SelectMany(m => m.Contents).OfType<FunctionCallContent>());
        Assert.Equal("get_weather", call.Name);
        Assert.Empty(JsonSchemaValidator.Validate(WeatherSchema, JsonSerializer.SerializeToElement(call.Arguments))); // the arguments satisfy the tool's schema
        var again = await client.GetResponseAsync(conversation, options, Ct);
        Assert.Equal(call.CallId, Assert.Single(again.Messages.SelectMany(m => m.Contents).OfType<FunctionCallContent>()).CallId); // deterministic

        // A required tool is called even when the prompt does not name it; streaming gives the same call.
        var required = new ChatOptions { Tools = [Weather], ToolMode = ChatToolMode.RequireAny };
        List<ChatResponseUpdate> updates = [];
        await foreach (var update in client.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "Hanoi?")], required, Ct))
        {
            updates.Add(update);
        }
        Assert.Equal("get_weather", Assert.Single(updates.ToChatResponse().Messages.SelectMany(m => m.Contents).OfType<FunctionCallContent>()).Name);

        conversation.AddRange(first.Messages);
        conversation.Add(new ChatMessage(ChatRole.Tool, [new FunctionResultContent(call.CallId, JsonDocument.Parse("""{"temperature":31}""").RootElement)]));
        var second = await client.GetResponseAsync(conversation, options, Ct);
        Assert.Equal(ChatFinishReason.Stop, second.FinishReason);
        Assert.Contains("get_weather returned {\"temperature\":31}", second.Text, StringComparison.Ordinal);

        var structured = await client.GetResponseAsync([new ChatMessage(ChatRole.User, "Weather as JSON")], StructuredOutput.Request(new ChatOptions(), Local, AnswerSchema), Ct);
        var judged = StructuredOutput.Check(structured.Text, AnswerSchema);
        Assert.True(judged.Valid, string.Join("; ", judged.Errors) + " in " + structured.Text);
    }

    [Theory]
    [InlineData(429, false)]
    [InlineData(429, true)]
    [InlineData(500, false)]
    [InlineData(500, true)]
    [InlineData(0, false)]
    [InlineData(0, true)]
    public async Task Every_attempt_is_exactly_one_HTTP_request(int status, bool stream)
    {
        // 0: the vendor does not answer within the timeout.
        _vendor.Handler = status == 0
            ? async (context, _) => await Task.Delay(TimeSpan.FromSeconds(5), context.RequestAborted)
            : (context, _) => FakeVendor.JsonAsync(context, status, """{"error":{"message":"try later"}}""", new Dictionary<string, string> { ["Retry-After"] = "0" });
        // Its own clients with a short timeout, so that the slow vendor times out quickly.
        await using var shortTimeout = VendorClients.Build(o => o.Timeout = TimeSpan.FromMilliseconds(700));
        using var client = shortTimeout.GetRequiredService<VendorClientFactory>().CreateChatClient(OpenAI());
        var error = await Assert.ThrowsAsync<VendorException>(async () =>
        {
            if (stream)
            {
                await foreach (var _ in client.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "hi")], null, Ct))
                {
                }
            }
            else
            {
                await client.GetResponseAsync([new ChatMessage(ChatRole.User, "hi")], null, Ct);
            }
        });
        Assert.Equal(status switch { 429 => ErrorCode.VendorRateLimited, 500 => ErrorCode.VendorUnavailable, _ => ErrorCode.VendorTimeout }, error.Code);
        Assert.True(error.IsTransient);
        await Task.Delay(300, Ct); // a hidden retry would have been sent by now (the SDK's first one waits about 50 ms)
        Assert.Single(_vendor.Requests);
    }

    [Fact]
    public async Task Gemini_images_come_through_its_OpenAI_compatible_endpoint_as_bytes()
    {
        var png = Png.Render(3, 3, new byte[32]);
        _vendor.Handler = (context, _) => FakeVendor.JsonAsync(context, 200, $$$"""{"created":1,"data":[{"b64_json":"{{{Convert.ToBase64String(png)}}}"}]}""");
        var gemini = new VendorTarget("gemini", ProviderKinds.OpenAICompatible, _vendor.Url + "/v1beta/openai", "imagen-3.0-generate-002", new VendorCredential("AIza-test-0123456789"),
            KeySource.Shared, ModelPrices.Unknown, [Capabilities.Image]);
        using var images = Factory.CreateImageGenerator(gemini);
        var picture = await images.GenerateAsync(new ImageGenerationRequest("a lighthouse"), new ImageGenerationOptions { ImageSize = new System.Drawing.Size(1024, 1024) }, Ct);
        Assert.Equal(png, Assert.IsType<DataContent>(Assert.Single(picture.Contents)).Data.ToArray());
        var request = Assert.Single(_vendor.Requests);
        Assert.Equal("/v1beta/openai/images/generations", request.Path);
        Assert.Equal("Bearer AIza-test-0123456789", request.Headers["Authorization"]);
        using var body = JsonDocument.Parse(request.Body);
        Assert.Equal("imagen-3.0-generate-002", body.RootElement.GetProperty("model").GetString());
        Assert.Equal("b64_json", body.RootElement.GetProperty("response_format").GetString()); // bytes, not a link that expires
        Assert.Equal("1024x1024", body.RootElement.GetProperty("size").GetString());
        Assert.Null(MeteredUsage.From(picture)!.Cost); // no price in the catalogue: unknown, not zero
    }

    [Fact]
    public async Task Images_and_speech_are_traced_and_metered_like_chat()
    {
        var spans = new List<Activity>();
        var png = Png.Render(4, 4, new byte[32]);
        _vendor.Handler = (context, request) => request.Path switch
        {
            "/v1/images/generations" => FakeVendor.JsonAsync(context, 200, $$$"""{"created":1,"data":[{"b64_json":"{{{Convert.ToBase64String(png)}}}"}],"usage":{"input_tokens":9,"output_tokens":100,"total_tokens":109}}"""),
            _ => WriteAudio(context),
        };
        var imageTarget = OpenAI() with { ModelId = "gpt-image-1", Prices = new ModelPrices(5m, 40m) };
        var speechTarget = OpenAI() with { ModelId = "gpt-4o-mini-tts", Prices = new ModelPrices(0.60m, 12m) };
        using (var tracing = Sdk.CreateTracerProviderBuilder().AddSource(VendorTelemetry.SourceName).AddInMemoryExporter(spans).Build())
        {
            using var images = Factory.CreateImageGenerator(imageTarget);
            var picture = await images.GenerateAsync(new ImageGenerationRequest("a cat"), null, Ct);
            var metered = MeteredUsage.From(picture)!;
            Assert.Equal(100, metered.OutputTokens);
            using (var body = JsonDocument.Parse(_vendor.Requests.Last().Body))
            {
                Assert.False(body.RootElement.TryGetProperty("response_format", out _)); // gpt-image models refuse the field
            }
            Assert.Equal(9 * 5m / 1_000_000 + 100 * 40m / 1_000_000, metered.Cost);

            using var speech = Factory.CreateSpeechClient(speechTarget);
            var audio = await speech.GetAudioAsync("Hello there", null, Ct);
            var spoken = MeteredUsage.From(audio.AdditionalProperties)!;
            Assert.Equal(11, spoken.InputTokens); // speech is priced per input character
            Assert.Equal(11 * 0.60m / 1_000_000, spoken.Cost);

            _vendor.Handler = (context, _) => FakeVendor.JsonAsync(context, 429, """{"error":{"message":"slow down"}}""", new Dictionary<string, string> { ["Retry-After"] = "3" });
            var limited = await Assert.ThrowsAsync<VendorException>(() => images.GenerateAsync(new ImageGenerationRequest("a dog"), null, Ct));
            Assert.Equal(ErrorCode.VendorRateLimited, limited.Code);
            Assert.Equal(TimeSpan.FromSeconds(3), limited.RetryAfter);
            tracing.ForceFlush();
        }
        var port = new Uri(_vendor.Url).Port;
        var ours = spans.Where(a => Equals(a.GetTagItem("server.port"), port)).ToList();
        var image = Assert.Single(ours, a => a.DisplayName == "generate_content gpt-image-1" && a.Status != ActivityStatusCode.Error);
        Assert.Equal("openai", image.GetTagItem("gen_ai.provider.name"));
        Assert.Equal("gpt-image-1", image.GetTagItem("gen_ai.request.model"));
        Assert.Single(ours, a => a.DisplayName == "generate_content gpt-4o-mini-tts" && (string?)a.GetTagItem("gen_ai.request.model") == "gpt-4o-mini-tts");
        var failed = Assert.Single(ours, a => a.Status == ActivityStatusCode.Error);
        Assert.Equal("vendor_rate_limited", failed.GetTagItem(VendorTelemetry.ErrorCodeTag));

        static async Task WriteAudio(Microsoft.AspNetCore.Http.HttpContext context)
        {
            context.Response.ContentType = "audio/mpeg";
            await context.Response.Body.WriteAsync("ID3-fake-mp3"u8.ToArray());
        }
    }
}
