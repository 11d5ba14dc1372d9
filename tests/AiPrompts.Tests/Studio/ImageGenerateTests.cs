using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using AiPrompts.Tests.Infrastructure;
using SkiaSharp;

namespace AiPrompts.Tests.Studio;

/// <summary>The Vietnamese document's image-generation service, drawn by a real Worker process and kept in the media store.</summary>
public sealed class ImageGenerateTests(ImageGenerateTests.Fixture fixture) : IClassFixture<ImageGenerateTests.Fixture>
{
    public sealed class Fixture : WorkerFactory;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static async Task<JsonElement> JsonAsync(HttpResponseMessage response, HttpStatusCode expected = HttpStatusCode.OK)
    {
        var text = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(response.StatusCode == expected, $"{(int)response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    private static StringContent Body(string json) => new(json, Encoding.UTF8, "application/json");

    private static SKCodec Decode(byte[] bytes) => SKCodec.Create(new MemoryStream(bytes)) ?? throw new InvalidDataException("not an image");

    [Fact]
    public async Task The_documents_example_draws_a_real_png_on_the_local_model_and_keeps_it_in_the_media_store()
    {
        var user = await fixture.CreateUserAsync("user");
        using var client = fixture.CreateClient(user.Token);
        const string Prompt = """{"refined_prompt": "A watercolor cat astronaut floating above Ha Long Bay at sunset"}""";
        var answer = await JsonAsync(await client.PostAsync("/v1/image/generate", Body(Prompt), Ct));

        Assert.Matches("^[0-9a-f]{32}$", answer.GetProperty("request_id").GetString());
        Assert.Equal("DONE", answer.GetProperty("status").GetString());
        var metadata = answer.GetProperty("metadata");
        Assert.Equal("local-image", metadata.GetProperty("model").GetString());
        Assert.Equal("1024x1024", metadata.GetProperty("size").GetString());
        Assert.True(metadata.GetProperty("processing_time").GetDouble() >= 0);
        var png = Convert.FromBase64String(answer.GetProperty("image_base64").GetString()!);
        using (var codec = Decode(png))
        {
            Assert.Equal((SKEncodedImageFormat.Png, 1024, 1024), (codec.EncodedFormat, codec.Info.Width, codec.Info.Height));
        }

        // The same picture is in the media store, behind a signed URL an <img src> can use.
        var served = await fixture.CreateClient(null).GetByteArrayAsync(answer.GetProperty("image_url").GetString(), Ct);
        Assert.Equal(png, served);
        var requestId = Guid.ParseExact(answer.GetProperty("request_id").GetString()!, "N");
        Assert.Equal("generated", await fixture.Database.ScalarAsync<string>(
            "SELECT f.origin FROM media_files f JOIN studio_requests r ON r.media_file_id = f.id WHERE r.id = $1", requestId));
        Assert.Equal(1L, await fixture.Database.ScalarAsync<long>(
            "SELECT count(*) FROM usage_events WHERE subject_type = 'image_generate' AND subject_id = $1 AND status = 'succeeded' AND section = 'image'", requestId));

        // The picture follows from the prompt: the same prompt draws it again, another draws another; a size is kept.
        var again = await JsonAsync(await client.PostAsync("/v1/image/generate", Body(Prompt), Ct));
        Assert.Equal(answer.GetProperty("image_base64").GetString(), again.GetProperty("image_base64").GetString());
        var small = await JsonAsync(await client.PostAsync("/v1/image/generate", Body("""{"refined_prompt": "A red lantern", "size": "320x200"}"""), Ct));
        Assert.Equal("320x200", small.GetProperty("metadata").GetProperty("size").GetString());
        Assert.NotEqual(answer.GetProperty("image_base64").GetString(), small.GetProperty("image_base64").GetString());

        // Polling it later gives the same answer; another user gets 404.
        var polled = await JsonAsync(await client.GetAsync($"/v1/image/generate/{answer.GetProperty("request_id").GetString()}", Ct));
        Assert.Equal(answer.GetProperty("image_base64").GetString(), polled.GetProperty("image_base64").GetString());
        using var stranger = fixture.CreateClient((await fixture.CreateUserAsync("user")).Token);
        await JsonAsync(await stranger.GetAsync($"/v1/image/generate/{answer.GetProperty("request_id").GetString()}", Ct), HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Bad_input_and_a_missing_vendor_key_are_clear_refusals_with_nothing_queued()
    {
        var user = await fixture.CreateUserAsync("user");
        using var client = fixture.CreateClient(user.Token);
        var empty = await JsonAsync(await client.PostAsync("/v1/image/generate", Body("""{"refined_prompt": " "}"""), Ct), HttpStatusCode.BadRequest);
        Assert.True(empty.GetProperty("errors").TryGetProperty("refined_prompt", out _));
        var size = await JsonAsync(await client.PostAsync("/v1/image/generate", Body("""{"refined_prompt": "x", "size": "99999x1"}"""), Ct), HttpStatusCode.BadRequest);
        Assert.True(size.GetProperty("errors").TryGetProperty("size", out _));
        var noKey = await JsonAsync(await client.PostAsync("/v1/image/generate", Body("""{"refined_prompt": "x", "provider": "openai", "model": "gpt-image-1"}"""), Ct), HttpStatusCode.BadRequest);
        Assert.Equal("ai_key_missing", noKey.GetProperty("code").GetString());
        Assert.Equal(0L, await fixture.Database.ScalarAsync<long>("SELECT count(*) FROM studio_requests WHERE user_id = $1", user.Id));
    }

    [Fact]
    public async Task An_OpenAI_image_goes_through_the_vendor_and_is_re_encoded_before_it_is_kept()
    {
        var marker = $"studio-{Guid.NewGuid():N}";
        using var picture = new SKBitmap(64, 48);
        picture.Erase(SKColors.Teal);
        var vendorPng = SKImage.FromBitmap(picture).Encode(SKEncodedImageFormat.Png, 100).ToArray();
        var handler = fixture.Vendor.Handler;
        fixture.Vendor.Handler = (context, request) => request.Path == "/v1/images/generations"
            ? FakeVendor.JsonAsync(context, 200, $$$"""{"created":1,"data":[{"b64_json":"{{{Convert.ToBase64String(vendorPng)}}}"}],"usage":{"input_tokens":9,"output_tokens":100,"total_tokens":109}}""")
            : handler(context, request);
        try
        {
            var user = await fixture.CreateUserAsync("user");
            await fixture.SetOpenAiKeyAsync(user);
            using var client = fixture.CreateClient(user.Token);
            var answer = await JsonAsync(await client.PostAsJsonAsync("/v1/image/generate", new { refined_prompt = marker, size = "1024x1024", provider = "openai", model = "gpt-image-1" }, Ct));
            Assert.Equal("gpt-image-1", answer.GetProperty("metadata").GetProperty("model").GetString());
            Assert.Equal("64x48", answer.GetProperty("metadata").GetProperty("size").GetString()); // what the vendor drew
            var sent = JsonDocument.Parse(fixture.Vendor.Requests.Single(r => r.Body.Contains(marker, StringComparison.Ordinal)).Body).RootElement;
            Assert.Equal(("gpt-image-1", "1024x1024"), (sent.GetProperty("model").GetString(), sent.GetProperty("size").GetString()));
            using var codec = Decode(Convert.FromBase64String(answer.GetProperty("image_base64").GetString()!));
            Assert.Equal((64, 48), (codec.Info.Width, codec.Info.Height));
            var requestId = Guid.ParseExact(answer.GetProperty("request_id").GetString()!, "N");
            Assert.Equal(109L, await fixture.Database.ScalarAsync<long>(
                "SELECT input_tokens + output_tokens FROM usage_events WHERE subject_id = $1 AND provider_id = 'openai'", requestId));
        }
        finally
        {
            fixture.Vendor.Handler = handler;
        }
    }
}
