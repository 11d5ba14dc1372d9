using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using AiPrompts.Core.Media;
using AiPrompts.Tests.Infrastructure;
using Amazon.S3;
using SkiaSharp;

namespace AiPrompts.Tests.Media;

/// <summary>
/// The media store with <c>Media:Store=s3</c> against a real S3-compatible server (s3rver) through the AWS SDK:
/// records in Postgres, bytes in the bucket, for uploads, generated images and the retention sweep.
/// </summary>
public sealed class S3MediaStoreTests(S3MediaStoreTests.Fixture fixture) : IClassFixture<S3MediaStoreTests.Fixture>
{
    public sealed class Fixture : WorkerFactory
    {
        public S3ServerProcess S3 { get; } = new("aiprompts-media");

        public MediaOptions.S3Options Options => new()
        {
            ServiceUrl = S3.ServiceUrl, Bucket = S3.Bucket, AccessKey = S3ServerProcess.AccessKey, SecretKey = S3ServerProcess.SecretKey,
        };

        protected override IReadOnlyDictionary<string, string?> JobSettings => base.JobSettings.Concat(new Dictionary<string, string?>
        {
            ["Media:Store"] = "s3",
            ["Media:S3:ServiceUrl"] = S3.ServiceUrl,
            ["Media:S3:Bucket"] = S3.Bucket,
            ["Media:S3:AccessKey"] = S3ServerProcess.AccessKey,
            ["Media:S3:SecretKey"] = S3ServerProcess.SecretKey,
            ["Media:SweepInterval"] = "00:00:01",
        }).ToDictionary();

        public override async ValueTask InitializeAsync()
        {
            await S3.StartAsync();
            await base.InitializeAsync();
        }

        public override async ValueTask DisposeAsync()
        {
            await base.DisposeAsync();
            await S3.DisposeAsync();
        }
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static byte[] Png(int width, int height)
    {
        using var bitmap = new SKBitmap(width, height);
        bitmap.Erase(SKColors.MediumPurple);
        using var image = SKImage.FromBitmap(bitmap);
        return image.Encode(SKEncodedImageFormat.Png, 100).ToArray();
    }

    private static async Task<JsonElement> UploadAsync(HttpClient client, byte[] bytes, bool store)
    {
        using var form = new MultipartFormDataContent();
        var file = new ByteArrayContent(bytes);
        file.Headers.ContentType = new MediaTypeHeaderValue("image/png");
        form.Add(file, "file", "picture.png");
        form.Add(new StringContent(store ? "true" : "false"), "store");
        using var response = await client.PostAsync("/api/v1/file/uploads", form, Ct);
        var text = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(response.StatusCode == HttpStatusCode.Created, text);
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    /// <summary>The object as the bucket holds it, read with the AWS SDK; null when there is none.</summary>
    private async Task<byte[]?> ObjectAsync(Guid id)
    {
        using var s3 = S3MediaStore.CreateClient(fixture.Options);
        try
        {
            using var response = await s3.GetObjectAsync(fixture.S3.Bucket, "media/" + id.ToString("N"), Ct);
            using var buffer = new MemoryStream();
            await response.ResponseStream.CopyToAsync(buffer, Ct);
            return buffer.ToArray();
        }
        catch (AmazonS3Exception ex) when (ex.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    [Fact]
    public async Task An_upload_goes_to_the_bucket_is_served_from_it_and_is_deleted_from_it()
    {
        var user = await fixture.CreateUserAsync("user");
        using var client = fixture.CreateClient(user.Token);
        var uploaded = await UploadAsync(client, Png(120, 80), store: true);
        var id = Guid.Parse(uploaded.GetProperty("file_id").GetString()!);

        Assert.Equal("s3", await fixture.Database.ScalarAsync<string>("SELECT storage FROM media_files WHERE id = $1", id));
        Assert.Equal(0L, await fixture.Database.ScalarAsync<long>("SELECT count(*) FROM media_contents WHERE id = $1", id));
        var kept = await ObjectAsync(id);
        Assert.NotNull(kept);
        var served = await fixture.CreateClient(null).GetByteArrayAsync(uploaded.GetProperty("file_url").GetString(), Ct);
        Assert.Equal(kept, served);
        using (var codec = SKCodec.Create(new MemoryStream(served)))
        {
            Assert.Equal((120, 80), (codec.Info.Width, codec.Info.Height));
        }

        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync($"/api/v1/file/uploads/{id}", Ct)).StatusCode);
        Assert.Null(await ObjectAsync(id));
        Assert.Equal(HttpStatusCode.NotFound, (await fixture.CreateClient(null).GetAsync(uploaded.GetProperty("file_url").GetString(), Ct)).StatusCode);
    }

    [Fact]
    public async Task A_generated_image_is_written_to_the_bucket_by_the_Worker_under_its_request_id()
    {
        var user = await fixture.CreateUserAsync("user");
        using var client = fixture.CreateClient(user.Token);
        using var response = await client.PostAsJsonAsync("/v1/image/generate", new { refined_prompt = "A paper boat on a green river", size = "200x150" }, Ct);
        var text = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        var answer = JsonDocument.Parse(text).RootElement;
        var requestId = Guid.ParseExact(answer.GetProperty("request_id").GetString()!, "N");

        Assert.Equal("s3", await fixture.Database.ScalarAsync<string>("SELECT storage FROM media_files WHERE id = $1", requestId));
        Assert.Equal(Convert.FromBase64String(answer.GetProperty("image_base64").GetString()!), await ObjectAsync(requestId));
    }

    [Fact]
    public async Task The_Workers_sweep_deletes_an_expired_files_object_and_its_record()
    {
        var user = await fixture.CreateUserAsync("user");
        using var client = fixture.CreateClient(user.Token);
        var uploaded = await UploadAsync(client, Png(64, 64), store: false);
        var id = Guid.Parse(uploaded.GetProperty("file_id").GetString()!);
        Assert.NotNull(await ObjectAsync(id));

        await fixture.Database.ExecuteAsync($"UPDATE media_files SET expires_at = now() - interval '1 second' WHERE id = '{id}'");
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (await fixture.Database.ScalarAsync<long>("SELECT count(*) FROM media_files WHERE id = $1", id) > 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "The sweep did not delete the expired file.");
            await Task.Delay(100, Ct);
        }
        Assert.Null(await ObjectAsync(id));
    }
}
