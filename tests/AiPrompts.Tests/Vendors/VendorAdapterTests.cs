using System.Diagnostics;
using System.Text.Json;
using AiPrompts.Core.Errors;
using AiPrompts.Core.Keys;
using AiPrompts.Core.Providers;
using AiPrompts.Core.Vendors;
using AiPrompts.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace AiPrompts.Tests.Vendors;

#pragma warning disable MEAI001

/// <summary>The real adapters (through the factory and its middleware) against fake vendors speaking the real wire formats.</summary>
public sealed class VendorAdapterTests : IAsyncLifetime
{
    private const string Secret = "sk-test-CANARY-0123456789abcdef";
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private FakeVendor _vendor = null!;
    private ServiceProvider _services = null!;

    public async ValueTask InitializeAsync()
    {
        _vendor = await FakeVendor.StartAsync();
        _services = VendorClients.Build(o =>
        {
            o.OpenRouter.Referer = "https://panel.example.com";
            o.OpenRouter.Title = "AiPrompts tests";
            o.Timeout = TimeSpan.FromSeconds(20);
        });
    }

    public async ValueTask DisposeAsync()
    {
        await _services.DisposeAsync();
        await _vendor.DisposeAsync();
    }

    private VendorClientFactory Factory => _services.GetRequiredService<VendorClientFactory>();

    private VendorTarget Target(string provider, string kind, string model, string path = "/v1") =>
        new(provider, kind, _vendor.Url + path, model, new VendorCredential(Secret), KeySource.Personal, new ModelPrices(0.15m, 0.60m));

    private static ChatMessage[] Prompt => [new(ChatRole.System, "Be brief."), new(ChatRole.User, "Say hello")];

    [Fact]
    public async Task OpenAI_chat_completion_is_read_with_usage_cost_and_finish_reason()
    {
        _vendor.Handler = (context, _) => FakeVendor.JsonAsync(context, 200, """
            {"id":"chatcmpl-1","object":"chat.completion","created":1760000000,"model":"gpt-4o-mini-2024-07-18",
             "choices":[{"index":0,"message":{"role":"assistant","content":"Hello there"},"finish_reason":"stop"}],
             "usage":{"prompt_tokens":1000,"completion_tokens":2000,"total_tokens":3000,"prompt_tokens_details":{"cached_tokens":10}}}
            """);
        using var client = Factory.CreateChatClient(Target("openai", ProviderKinds.OpenAICompatible, "gpt-4o-mini"));
        var response = await client.GetResponseAsync(Prompt, new ChatOptions { Temperature = 0.2f, MaxOutputTokens = 50 }, Ct);

        Assert.Equal("Hello there", response.Text);
        Assert.Equal(ChatFinishReason.Stop, response.FinishReason);
        Assert.Equal("chatcmpl-1", response.ResponseId);
        Assert.Equal(1000, response.Usage!.InputTokenCount);
        Assert.Equal(2000, response.Usage.OutputTokenCount);
        Assert.Equal(10, response.Usage.CachedInputTokenCount);
        var metered = MeteredUsage.From(response.AdditionalProperties)!;
        Assert.Equal(0.00015m + 0.0012m, metered.Cost); // 1000 × 0.15/M + 2000 × 0.60/M
        Assert.Null(metered.VendorCost);

        var request = Assert.Single(_vendor.Requests);
        Assert.Equal("/v1/chat/completions", request.Path);
        Assert.Equal($"Bearer {Secret}", request.Headers["Authorization"]);
        using var body = JsonDocument.Parse(request.Body);
        Assert.Equal("gpt-4o-mini", body.RootElement.GetProperty("model").GetString());
        Assert.Equal(50, body.RootElement.GetProperty("max_tokens").GetInt32());
        Assert.Equal("system", body.RootElement.GetProperty("messages")[0].GetProperty("role").GetString());
        Assert.False(body.RootElement.TryGetProperty("stream", out _));
        Assert.False(request.Headers.ContainsKey("X-Title")); // OpenRouter's headers go to OpenRouter only
    }

    [Fact]
    public async Task OpenAI_stream_delivers_text_in_order_and_usage_from_the_last_chunk()
    {
        _vendor.Handler = (context, _) => FakeVendor.SseAsync(context,
        [
            """{"id":"c2","object":"chat.completion.chunk","model":"gpt-4o-mini","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}""",
            """{"id":"c2","object":"chat.completion.chunk","model":"gpt-4o-mini","choices":[{"index":0,"delta":{"content":"Hel"},"finish_reason":null}]}""",
            """{"id":"c2","object":"chat.completion.chunk","model":"gpt-4o-mini","choices":[{"index":0,"delta":{"content":"lo!"},"finish_reason":null}]}""",
            """{"id":"c2","object":"chat.completion.chunk","model":"gpt-4o-mini","choices":[{"index":0,"delta":{},"finish_reason":"length"}]}""",
            """{"id":"c2","object":"chat.completion.chunk","model":"gpt-4o-mini","choices":[],"usage":{"prompt_tokens":7,"completion_tokens":2,"total_tokens":9}}""",
            "[DONE]",
        ]);
        using var client = Factory.CreateChatClient(Target("openai", ProviderKinds.OpenAICompatible, "gpt-4o-mini"));
        var updates = new List<ChatResponseUpdate>();
        await foreach (var update in client.GetStreamingResponseAsync(Prompt, null, Ct))
        {
            updates.Add(update);
        }
        Assert.Equal("Hello!", string.Concat(updates.Select(u => u.Text)));
        var response = updates.ToChatResponse();
        Assert.Equal(ChatFinishReason.Length, response.FinishReason);
        Assert.Equal(7, response.Usage!.InputTokenCount);
        Assert.Equal(2, response.Usage.OutputTokenCount);
        Assert.Equal(7, MeteredUsage.From(updates[^1].AdditionalProperties)!.InputTokens);

        using var body = JsonDocument.Parse(Assert.Single(_vendor.Requests).Body);
        Assert.True(body.RootElement.GetProperty("stream").GetBoolean());
        Assert.True(body.RootElement.GetProperty("stream_options").GetProperty("include_usage").GetBoolean());
    }

    [Fact]
    public async Task OpenRouter_gets_its_headers_and_its_reported_cost_is_kept_beside_ours()
    {
        _vendor.Handler = (context, _) => FakeVendor.JsonAsync(context, 200, """
            {"id":"gen-1","model":"openai/gpt-4o-mini","choices":[{"message":{"role":"assistant","content":"ok"},"finish_reason":"stop","native_finish_reason":"stop"}],
             "usage":{"prompt_tokens":10,"completion_tokens":1,"total_tokens":11,"cost":0.0000021}}
            """);
        using var client = Factory.CreateChatClient(Target("openrouter", ProviderKinds.OpenAICompatible, "openai/gpt-4o-mini", "/api/v1"));
        var response = await client.GetResponseAsync(Prompt, null, Ct);
        var metered = MeteredUsage.From(response.AdditionalProperties)!;
        Assert.Equal(0.0000021m, metered.VendorCost);
        Assert.Equal(0.0000021m, metered.Cost); // 10 × 0.15/M + 1 × 0.60/M
        var request = Assert.Single(_vendor.Requests);
        Assert.Equal("/api/v1/chat/completions", request.Path);
        Assert.Equal("https://panel.example.com", request.Headers["HTTP-Referer"]);
        Assert.Equal("AiPrompts tests", request.Headers["X-Title"]);
    }

    [Fact]
    public async Task Finish_reason_error_becomes_a_transient_vendor_error_not_a_crash()
    {
        _vendor.Handler = (context, _) => FakeVendor.JsonAsync(context, 200, """
            {"id":"gen-2","model":"x","choices":[{"message":{"role":"assistant","content":""},"finish_reason":"error","error":{"code":502,"message":"Upstream provider failed"}}]}
            """);
        using var client = Factory.CreateChatClient(Target("openrouter", ProviderKinds.OpenAICompatible, "x"));
        var error = await Assert.ThrowsAsync<VendorException>(() => client.GetResponseAsync(Prompt, null, Ct));
        Assert.Equal(ErrorCode.VendorUnavailable, error.Code);
        Assert.True(error.IsTransient);
        Assert.Contains("Upstream provider failed", error.VendorMessage, StringComparison.Ordinal);

        // The same inside a stream, after some text has arrived.
        _vendor.Handler = (context, _) => FakeVendor.SseAsync(context,
        [
            """{"id":"gen-3","model":"x","choices":[{"index":0,"delta":{"content":"partial"},"finish_reason":null}]}""",
            """{"id":"gen-3","model":"x","choices":[{"index":0,"delta":{"content":""},"finish_reason":"error","error":{"code":500,"message":"stream broke"}}]}""",
        ]);
        var text = "";
        var streamError = await Assert.ThrowsAsync<VendorException>(async () =>
        {
            await foreach (var update in client.GetStreamingResponseAsync(Prompt, null, Ct))
            {
                text += update.Text;
            }
        });
        Assert.Equal("partial", text);
        Assert.Equal(ErrorCode.VendorUnavailable, streamError.Code);
        Assert.Contains("stream broke", streamError.VendorMessage, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(401, """{"error":{"message":"Incorrect API key provided: sk-test-CANARY-0123456789abcdef.","type":"invalid_request_error","code":"invalid_api_key"}}""", "vendor_invalid_key", false)]
    [InlineData(402, """{"error":{"code":402,"message":"Insufficient credits. Add more using https://openrouter.ai/credits"}}""", "vendor_no_credit", false)]
    [InlineData(429, """{"error":{"message":"You exceeded your current quota","type":"insufficient_quota","code":"insufficient_quota"}}""", "vendor_no_credit", false)]
    [InlineData(404, """{"error":{"message":"The model `gpt-9` does not exist","type":"invalid_request_error","code":"model_not_found"}}""", "vendor_model_not_found", false)]
    [InlineData(400, """{"error":{"message":"Your request was rejected as a result of our safety system.","type":"invalid_request_error","code":"content_policy_violation"}}""", "vendor_content_filtered", false)]
    [InlineData(500, """{"error":{"message":"The server had an error while processing your request.","type":"server_error"}}""", "vendor_unavailable", true)]
    [InlineData(503, "<html>Service Unavailable</html>", "vendor_unavailable", true)]
    public async Task Vendor_HTTP_errors_become_stable_codes_with_the_key_masked(int status, string body, string code, bool transient)
    {
        _vendor.Handler = (context, _) => FakeVendor.JsonAsync(context, status, body);
        using var client = Factory.CreateChatClient(Target("openai", ProviderKinds.OpenAICompatible, "gpt-4o-mini"));
        var error = await Assert.ThrowsAsync<VendorException>(() => client.GetResponseAsync(Prompt, null, Ct));
        Assert.Equal(code, error.Code.Code);
        Assert.Equal(status, error.HttpStatus);
        Assert.Equal(transient, error.IsTransient);
        Assert.DoesNotContain("CANARY", error.VendorMessage, StringComparison.Ordinal);
        Assert.DoesNotContain("CANARY", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("CANARY", error.ToString(), StringComparison.Ordinal);
        Assert.Single(_vendor.Requests); // no retry behind the job engine's back
    }

    [Fact]
    public async Task Rate_limits_carry_Retry_After()
    {
        _vendor.Handler = (context, _) => FakeVendor.JsonAsync(context, 429, """{"error":{"message":"Rate limit reached for requests","type":"requests","code":"rate_limit_exceeded"}}""",
            new Dictionary<string, string> { ["Retry-After"] = "7" });
        using var client = Factory.CreateChatClient(Target("openai", ProviderKinds.OpenAICompatible, "gpt-4o-mini"));
        var error = await Assert.ThrowsAsync<VendorException>(() => client.GetResponseAsync(Prompt, null, Ct));
        Assert.Equal(ErrorCode.VendorRateLimited, error.Code);
        Assert.Equal(TimeSpan.FromSeconds(7), error.RetryAfter);
        Assert.True(error.IsTransient);
        Assert.Equal("7", error.MessageArgs["retryAfter"]);

        // The stream path reads the same error before any event.
        var streamError = await Assert.ThrowsAsync<VendorException>(async () =>
        {
            await foreach (var _ in client.GetStreamingResponseAsync(Prompt, null, Ct))
            {
            }
        });
        Assert.Equal(TimeSpan.FromSeconds(7), streamError.RetryAfter);
    }

    [Fact]
    public async Task A_vendor_that_does_not_answer_in_time_is_a_timeout_and_an_unreachable_one_is_unavailable()
    {
        await using var provider = VendorClients.Build(o => o.Timeout = TimeSpan.FromMilliseconds(300));
        _vendor.Handler = async (context, _) => await Task.Delay(TimeSpan.FromSeconds(5), context.RequestAborted);
        using var slow = provider.GetRequiredService<VendorClientFactory>().CreateChatClient(Target("openai", ProviderKinds.OpenAICompatible, "m"));
        var started = Stopwatch.StartNew();
        var timeout = await Assert.ThrowsAsync<VendorException>(() => slow.GetResponseAsync(Prompt, null, Ct));
        Assert.Equal(ErrorCode.VendorTimeout, timeout.Code);
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(4), "the call was not cut at the timeout");

        var closedPort = Ports.FreeLoopbackPort();
        using var gone = Factory.CreateChatClient(new VendorTarget("openai", ProviderKinds.OpenAICompatible, $"http://127.0.0.1:{closedPort}/v1", "m",
            new VendorCredential(Secret), KeySource.Shared, ModelPrices.Unknown));
        var unreachable = await Assert.ThrowsAsync<VendorException>(() => gone.GetResponseAsync(Prompt, null, Ct));
        Assert.Equal(ErrorCode.VendorUnavailable, unreachable.Code);
        Assert.DoesNotContain("CANARY", unreachable.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Caller_cancellation_stays_a_cancellation()
    {
        _vendor.Handler = async (context, _) => await Task.Delay(TimeSpan.FromSeconds(10), context.RequestAborted);
        using var client = Factory.CreateChatClient(Target("openai", ProviderKinds.OpenAICompatible, "m"));
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        cancel.CancelAfter(200);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.GetResponseAsync(Prompt, null, cancel.Token));
    }

    [Fact]
    public async Task Claude_through_the_Anthropic_SDK_answers_and_its_errors_get_our_codes()
    {
        _vendor.Handler = (context, request) => FakeVendor.JsonAsync(context, 200, """
            {"id":"msg_01","type":"message","role":"assistant","model":"claude-3-5-haiku-20241022",
             "content":[{"type":"text","text":"Hello from Claude"}],"stop_reason":"end_turn","stop_sequence":null,
             "usage":{"input_tokens":12,"output_tokens":4,"cache_creation_input_tokens":0,"cache_read_input_tokens":0}}
            """);
        var target = Target("anthropic", ProviderKinds.Anthropic, "claude-3-5-haiku-latest", "");
        using var client = Factory.CreateChatClient(target);
        var response = await client.GetResponseAsync(Prompt, null, Ct);
        Assert.Equal("Hello from Claude", response.Text);
        Assert.Equal(12, response.Usage!.InputTokenCount);
        Assert.Equal(4, response.Usage.OutputTokenCount);
        Assert.NotNull(MeteredUsage.From(response.AdditionalProperties)!.Cost);
        var request = Assert.Single(_vendor.Requests);
        Assert.Equal("/v1/messages", request.Path);
        // This SDK version sends the API key as a bearer token (see its ClientOptions.ApiKey docs).
        Assert.Equal($"Bearer {Secret}", request.Headers["Authorization"]);
        Assert.True(request.Headers.ContainsKey("anthropic-version"));
        using (var body = JsonDocument.Parse(request.Body))
        {
            Assert.Equal("claude-3-5-haiku-latest", body.RootElement.GetProperty("model").GetString());
            Assert.True(body.RootElement.GetProperty("max_tokens").GetInt32() > 0);
        }

        _vendor.Handler = (context, _) => FakeVendor.JsonAsync(context, 401, """{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}}""");
        var invalid = await Assert.ThrowsAsync<VendorException>(() => client.GetResponseAsync(Prompt, null, Ct));
        Assert.Equal(ErrorCode.VendorInvalidKey, invalid.Code);
        Assert.Contains("invalid x-api-key", invalid.VendorMessage, StringComparison.Ordinal);

        _vendor.Handler = (context, _) => FakeVendor.JsonAsync(context, 429, """{"type":"error","error":{"type":"rate_limit_error","message":"Number of requests has exceeded your rate limit"}}""",
            new Dictionary<string, string> { ["retry-after"] = "12" });
        var limited = await Assert.ThrowsAsync<VendorException>(() => client.GetResponseAsync(Prompt, null, Ct));
        Assert.Equal(ErrorCode.VendorRateLimited, limited.Code);
        Assert.Equal(TimeSpan.FromSeconds(12), limited.RetryAfter);

        _vendor.Handler = (context, _) => FakeVendor.JsonAsync(context, 529, """{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}""");
        Assert.Equal(ErrorCode.VendorUnavailable, (await Assert.ThrowsAsync<VendorException>(() => client.GetResponseAsync(Prompt, null, Ct))).Code);
        Assert.Equal(4, _vendor.Requests.Count); // the SDK's own retries are off
    }

    [Fact]
    public async Task Hugging_Face_text_to_image_returns_the_image_bytes()
    {
        var png = Png.Render(8, 8, new byte[32]);
        _vendor.Handler = async (context, _) =>
        {
            context.Response.ContentType = "image/png";
            await context.Response.Body.WriteAsync(png);
        };
        using var images = Factory.CreateImageGenerator(new VendorTarget("huggingface", ProviderKinds.HuggingFace, _vendor.Url + "/hf-inference", "black-forest-labs/FLUX.1-schnell",
            new VendorCredential("hf_testtoken1234567890"), KeySource.Shared, ModelPrices.Unknown));
        var response = await images.GenerateAsync(new ImageGenerationRequest("a red fox"), new ImageGenerationOptions { ImageSize = new System.Drawing.Size(512, 512) }, Ct);
        var image = Assert.IsType<DataContent>(Assert.Single(response.Contents));
        Assert.Equal("image/png", image.MediaType);
        Assert.Equal(png, image.Data.ToArray());
        var request = Assert.Single(_vendor.Requests);
        Assert.Equal("/hf-inference/models/black-forest-labs/FLUX.1-schnell", request.Path);
        Assert.Equal("Bearer hf_testtoken1234567890", request.Headers["Authorization"]);
        using var body = JsonDocument.Parse(request.Body);
        Assert.Equal("a red fox", body.RootElement.GetProperty("inputs").GetString());
        Assert.Equal(512, body.RootElement.GetProperty("parameters").GetProperty("width").GetInt32());

        _vendor.Handler = (context, _) => FakeVendor.JsonAsync(context, 503, """{"error":"Model black-forest-labs/FLUX.1-schnell is currently loading","estimated_time":20.0}""");
        var loading = await Assert.ThrowsAsync<VendorException>(() => images.GenerateAsync(new ImageGenerationRequest("x"), null, Ct));
        Assert.Equal(ErrorCode.VendorUnavailable, loading.Code);
        Assert.Contains("currently loading", loading.VendorMessage, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OpenAI_images_and_speech_go_through_the_SDK_protocol_methods()
    {
        var png = Png.Render(4, 4, new byte[32]);
        _vendor.Handler = (context, request) => request.Path switch
        {
            "/v1/images/generations" => FakeVendor.JsonAsync(context, 200, $$$"""{"created":1,"data":[{"b64_json":"{{{Convert.ToBase64String(png)}}}"}],"usage":{"input_tokens":9,"output_tokens":100}}"""),
            "/v1/audio/speech" => WriteAudio(context),
            _ => FakeVendor.JsonAsync(context, 404, "{}"),
        };
        using var images = Factory.CreateImageGenerator(Target("openai", ProviderKinds.OpenAICompatible, "gpt-image-1"));
        var picture = await images.GenerateAsync(new ImageGenerationRequest("a cat"), null, Ct);
        Assert.Equal(png, Assert.IsType<DataContent>(Assert.Single(picture.Contents)).Data.ToArray());
        Assert.Equal(100, picture.Usage!.OutputTokenCount);

        using var speech = Factory.CreateSpeechClient(Target("openai", ProviderKinds.OpenAICompatible, "gpt-4o-mini-tts"));
        var audio = await speech.GetAudioAsync("Hello", new TextToSpeechOptions { VoiceId = "nova" }, Ct);
        var clip = Assert.IsType<DataContent>(Assert.Single(audio.Contents));
        Assert.Equal("audio/mpeg", clip.MediaType);
        Assert.Equal("ID3-fake-mp3"u8.ToArray(), clip.Data.ToArray());
        var speechRequest = _vendor.Requests.Last();
        using var body = JsonDocument.Parse(speechRequest.Body);
        Assert.Equal("nova", body.RootElement.GetProperty("voice").GetString());
        Assert.Equal("Hello", body.RootElement.GetProperty("input").GetString());

        static async Task WriteAudio(HttpContext context)
        {
            context.Response.ContentType = "audio/mpeg";
            await context.Response.Body.WriteAsync("ID3-fake-mp3"u8.ToArray());
        }
    }

    [Fact]
    public async Task The_local_provider_answers_deterministically_and_makes_real_PNG_and_WAV_files()
    {
        var target = new VendorTarget("local", ProviderKinds.Local, null, "local-text", null, KeySource.None, new ModelPrices(0, 0));
        using var chat = Factory.CreateChatClient(target);
        var first = await chat.GetResponseAsync(Prompt, null, Ct);
        var second = await chat.GetResponseAsync(Prompt, null, Ct);
        Assert.Equal(first.Text, second.Text);
        Assert.Contains("Say hello", first.Text, StringComparison.Ordinal);
        Assert.True(first.Usage!.InputTokenCount > 0);
        Assert.Equal(0m, MeteredUsage.From(first.AdditionalProperties)!.Cost);
        var streamed = "";
        await foreach (var update in chat.GetStreamingResponseAsync(Prompt, null, Ct))
        {
            streamed += update.Text;
        }
        Assert.Equal(first.Text, streamed);
        var json = await chat.GetResponseAsync(Prompt, new ChatOptions { ResponseFormat = ChatResponseFormat.Json }, Ct);
        using (var parsed = JsonDocument.Parse(json.Text))
        {
            Assert.Equal(2, parsed.RootElement.GetProperty("words").GetInt32());
        }

        using var images = Factory.CreateImageGenerator(target with { ModelId = "local-image" });
        var image = Assert.IsType<DataContent>(Assert.Single((await images.GenerateAsync(new ImageGenerationRequest("a fox"), new ImageGenerationOptions { ImageSize = new System.Drawing.Size(64, 32) }, Ct)).Contents));
        var png = image.Data.ToArray();
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], png[..4]);
        Assert.Equal(64, System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(16)));
        Assert.Equal(32, System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(20)));
        // Every chunk's CRC is right (length, type, data, crc … IEND).
        for (var offset = 8; offset < png.Length;)
        {
            var length = System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(offset));
            var crc = System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(png.AsSpan(offset + 8 + length));
            Assert.Equal(System.IO.Hashing.Crc32.HashToUInt32(png.AsSpan(offset + 4, 4 + length)), crc);
            offset += 12 + length;
        }

        using var speech = Factory.CreateSpeechClient(target with { ModelId = "local-speech" });
        var wav = Assert.IsType<DataContent>(Assert.Single((await speech.GetAudioAsync("Hello world", null, Ct)).Contents)).Data.ToArray();
        Assert.Equal("RIFF"u8.ToArray(), wav[..4]);
        Assert.Equal("WAVE"u8.ToArray(), wav[8..12]);
        Assert.Equal(wav.Length - 8, BitConverter.ToInt32(wav, 4));
        Assert.Equal(LocalSpeechClient.SampleRate, BitConverter.ToInt32(wav, 24));
        Assert.Equal(wav.Length - 44, BitConverter.ToInt32(wav, 40));
        Assert.True(wav.Skip(44).Any(b => b != 0), "the audio is silent");
    }

    [Fact]
    public async Task Every_chat_call_is_traced_and_measured_as_the_GenAI_conventions_say()
    {
        var spans = new List<Activity>();
        var exported = new List<Metric>();
        List<Metric> metrics;
        using (var tracing = Sdk.CreateTracerProviderBuilder().AddSource(VendorTelemetry.SourceName).AddInMemoryExporter(spans).Build())
        using (var metering = Sdk.CreateMeterProviderBuilder().AddMeter(VendorTelemetry.SourceName).AddInMemoryExporter(exported).Build())
        {
            _vendor.Handler = (context, _) => FakeVendor.JsonAsync(context, 200, """
                {"id":"trace-1","model":"gpt-4o-mini-2024-07-18","choices":[{"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}],"usage":{"prompt_tokens":5,"completion_tokens":1,"total_tokens":6}}
                """);
            using var client = Factory.CreateChatClient(Target("openrouter", ProviderKinds.OpenAICompatible, "openai/gpt-4o-mini", "/api/v1"));
            await client.GetResponseAsync(Prompt, new ChatOptions { Temperature = 0.5f, MaxOutputTokens = 20 }, Ct);

            _vendor.Handler = (context, _) => FakeVendor.JsonAsync(context, 401, $$$"""{"error":{"message":"bad key {{{Secret}}}"}}""");
            await Assert.ThrowsAsync<VendorException>(() => client.GetResponseAsync(Prompt, null, Ct));
            tracing.ForceFlush();
            metering.ForceFlush();
            metrics = [.. exported]; // one export: its points are the totals so far
        }

        // Other tests run beside this one on the same source: pick this test's spans by model and vendor port.
        var ours = spans.Where(a => (string?)a.GetTagItem("gen_ai.request.model") == "openai/gpt-4o-mini" && Equals(a.GetTagItem("server.port"), new Uri(_vendor.Url).Port)).ToList();
        var span = Assert.Single(ours, a => a.Status != ActivityStatusCode.Error);
        Assert.Equal("chat openai/gpt-4o-mini", span.DisplayName);
        Assert.Equal(ActivityKind.Client, span.Kind);
        Assert.Equal("chat", span.GetTagItem("gen_ai.operation.name"));
        Assert.Equal("openrouter", span.GetTagItem("gen_ai.provider.name")); // our name for the vendor, not the SDK's "openai"
        Assert.Equal("127.0.0.1", span.GetTagItem("server.address"));
        Assert.Equal("trace-1", span.GetTagItem("gen_ai.response.id"));
        Assert.Equal("gpt-4o-mini-2024-07-18", span.GetTagItem("gen_ai.response.model"));
        Assert.Equal(20, Convert.ToInt32(span.GetTagItem("gen_ai.request.max_tokens"), System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(5, Convert.ToInt32(span.GetTagItem("gen_ai.usage.input_tokens"), System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(1, Convert.ToInt32(span.GetTagItem("gen_ai.usage.output_tokens"), System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal("personal", span.GetTagItem(VendorTelemetry.KeySourceTag));
        Assert.DoesNotContain(span.Tags, t => t.Key.StartsWith("gen_ai.input.messages", StringComparison.Ordinal) || t.Key.StartsWith("gen_ai.output.messages", StringComparison.Ordinal));

        var failed = Assert.Single(ours, a => a.Status == ActivityStatusCode.Error);
        Assert.Equal(typeof(VendorException).FullName, failed.GetTagItem("error.type"));
        Assert.Equal("vendor_invalid_key", failed.GetTagItem(VendorTelemetry.ErrorCodeTag));
        Assert.DoesNotContain("CANARY", failed.StatusDescription ?? "", StringComparison.Ordinal);
        Assert.DoesNotContain(ours.SelectMany(a => a.Tags), t => t.Value?.Contains("CANARY", StringComparison.Ordinal) == true);

        var tokens = HistogramSums(metrics, "gen_ai.client.token.usage", new Uri(_vendor.Url).Port);
        Assert.Equal(5, tokens.Single(t => (string?)t.Tags["gen_ai.token.type"] == "input").Sum);
        Assert.Equal(1, tokens.Single(t => (string?)t.Tags["gen_ai.token.type"] == "output").Sum);
        var durations = HistogramSums(metrics, "gen_ai.client.operation.duration", new Uri(_vendor.Url).Port);
        Assert.Contains(durations, d => !d.Tags.ContainsKey("error.type") && d.Sum > 0 && d.Count == 1);
        Assert.Contains(durations, d => (string?)d.Tags.GetValueOrDefault("error.type") == typeof(VendorException).FullName && d.Count == 1);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Message_content_reaches_spans_and_logs_only_when_the_setting_says_so(bool record)
    {
        var spans = new List<Activity>();
        var logs = new System.Collections.Concurrent.ConcurrentQueue<string>();
        await using var provider = VendorClients.Build(o => o.RecordMessageContent = record, logs);
        var model = $"local-content-{record}";
        using (var tracing = Sdk.CreateTracerProviderBuilder().AddSource(VendorTelemetry.SourceName).AddInMemoryExporter(spans).Build())
        {
            var target = new VendorTarget("local", ProviderKinds.Local, null, model, null, KeySource.None, new ModelPrices(0, 0));
            using var chat = provider.GetRequiredService<VendorClientFactory>().CreateChatClient(target);
            await chat.GetResponseAsync([new ChatMessage(ChatRole.User, "purple elephant")], null, Ct);
            tracing.ForceFlush();
        }
        var span = Assert.Single(spans, a => (string?)a.GetTagItem("gen_ai.request.model") == model);
        Assert.Equal("local", span.GetTagItem("gen_ai.provider.name"));
        Assert.Contains(logs, l => l.Contains("GetResponseAsync", StringComparison.Ordinal)); // the logging layer is there
        var inSpan = ((string?)span.GetTagItem("gen_ai.input.messages") ?? "").Contains("purple elephant", StringComparison.Ordinal);
        var inLogs = logs.Any(l => l.Contains("purple elephant", StringComparison.Ordinal));
        Assert.Equal(record, inSpan);
        Assert.Equal(record, inLogs);
    }

    private static List<(Dictionary<string, object?> Tags, double Sum, long Count)> HistogramSums(List<Metric> metrics, string name, int port)
    {
        var points = new List<(Dictionary<string, object?>, double, long)>();
        foreach (var metric in metrics.Where(m => m.Name == name))
        {
            foreach (ref readonly var point in metric.GetMetricPoints())
            {
                var tags = new Dictionary<string, object?>();
                foreach (var tag in point.Tags)
                {
                    tags[tag.Key] = tag.Value;
                }
                if ((string?)tags.GetValueOrDefault("gen_ai.request.model") == "openai/gpt-4o-mini" && Equals(tags.GetValueOrDefault("server.port"), port))
                {
                    points.Add((tags, point.GetHistogramSum(), point.GetHistogramCount()));
                }
            }
        }
        return points;
    }
}
