using System.Buffers.Binary;
using System.IO.Compression;
using System.IO.Hashing;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using AiPrompts.Api.Auth;
using AiPrompts.Core.Media;
using AiPrompts.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using SkiaSharp;

namespace AiPrompts.Tests.Media;

/// <summary>The Vietnamese document's media service: images judged by their bytes, re-encoded, signed URLs, owners only.</summary>
public sealed class MediaApiTests(MediaApiTests.Fixture fixture) : IClassFixture<MediaApiTests.Fixture>
{
    public sealed class Fixture : ApiFactory
    {
        public const long MaxBytes = 300_000;

        protected override IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?>
        {
            ["Media:MaxBytes"] = MaxBytes.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static async Task<(HttpStatusCode Status, JsonElement Body)> UploadAsync(HttpClient client, byte[] bytes, string fileName, string contentType, bool? store = null)
    {
        using var form = new MultipartFormDataContent();
        var file = new ByteArrayContent(bytes);
        file.Headers.ContentType = new MediaTypeHeaderValue(contentType);
        form.Add(file, "file", fileName);
        if (store is { } keep)
        {
            form.Add(new StringContent(keep ? "true" : "false"), "store");
        }
        using var response = await client.PostAsync("/api/v1/file/uploads", form, Ct);
        return (response.StatusCode, JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct)).RootElement.Clone());
    }

    private static byte[] Picture(int width, int height, SKEncodedImageFormat format)
    {
        using var bitmap = new SKBitmap(width, height);
        using (var canvas = new SKCanvas(bitmap))
        {
            canvas.Clear(SKColors.SkyBlue);
            using var paint = new SKPaint { Color = SKColors.OrangeRed };
            canvas.DrawRect(0, 0, width / 2f, height / 3f, paint);
        }
        using var image = SKImage.FromBitmap(bitmap);
        return image.Encode(format, 90).ToArray();
    }

    private async Task<long> FilesOfAsync(TestUser user) =>
        await fixture.Database.ScalarAsync<long>("SELECT count(*) FROM media_files WHERE owner_user_id = $1", user.Id);

    [Fact]
    public async Task An_uploaded_image_gets_a_signed_url_that_serves_it_to_an_img_tag_without_a_token()
    {
        var user = await fixture.CreateUserAsync("user");
        using var client = fixture.CreateClient(user.Token);
        var (status, body) = await UploadAsync(client, Picture(320, 200, SKEncodedImageFormat.Png), "cat.png", "image/png");
        Assert.Equal(HttpStatusCode.Created, status);
        var url = body.GetProperty("file_url").GetString()!;
        Assert.Matches("^http://localhost/api/v1/files/[0-9a-f]{32}\\?expires=[0-9]+&signature=[A-Za-z0-9_-]{43}$", url);
        Assert.Equal(("image/png", 320, 200), (body.GetProperty("content_type").GetString(), body.GetProperty("width").GetInt32(), body.GetProperty("height").GetInt32()));
        Assert.Equal(JsonValueKind.Null, body.GetProperty("kept_until").ValueKind); // stored: kept until deleted

        using var anonymous = fixture.CreateClient(null);
        using var served = await anonymous.GetAsync(url, Ct);
        Assert.Equal(HttpStatusCode.OK, served.StatusCode);
        Assert.Equal("image/png", served.Content.Headers.ContentType?.MediaType);
        Assert.Equal("nosniff", served.Headers.GetValues("X-Content-Type-Options").Single());
        using var codec = SKCodec.Create(new MemoryStream(await served.Content.ReadAsByteArrayAsync(Ct)));
        Assert.Equal((SKEncodedImageFormat.Png, 320, 200), (codec.EncodedFormat, codec.Info.Width, codec.Info.Height));

        // The owner gets a fresh link; a changed signature or another file's signature is a 404.
        var again = await client.GetAsync($"/api/v1/file/uploads/{body.GetProperty("file_id").GetString()}", Ct);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        var tampered = url[..^4] + (url[^4] == 'A' ? "BBBB" : "AAAA");
        Assert.Equal(HttpStatusCode.NotFound, (await anonymous.GetAsync(tampered, Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await anonymous.GetAsync(url[..url.IndexOf('?', StringComparison.Ordinal)], Ct)).StatusCode);
    }

    [Fact]
    public async Task A_renamed_non_image_an_oversized_file_and_a_pixel_bomb_are_refused_and_nothing_is_stored()
    {
        var user = await fixture.CreateUserAsync("user");
        using var client = fixture.CreateClient(user.Token);

        var (renamed, renamedBody) = await UploadAsync(client, Encoding.UTF8.GetBytes("#!/bin/sh\necho this is not a picture\n"), "holiday.png", "image/png");
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, renamed);
        Assert.Equal("media_not_an_image", renamedBody.GetProperty("code").GetString());
        Assert.Contains("image/png", renamedBody.GetProperty("message").GetString(), StringComparison.Ordinal);

        var big = new byte[Fixture.MaxBytes + 1];
        Picture(64, 64, SKEncodedImageFormat.Png).CopyTo(big, 0);
        var (oversized, oversizedBody) = await UploadAsync(client, big, "big.png", "image/png");
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, oversized);
        Assert.Equal("media_too_large", oversizedBody.GetProperty("code").GetString());

        // 30,000 × 30,000 grey pixels (900 MB decoded) in a file of a few dozen bytes: refused from its header.
        var bomb = PngHeaderOnly(30_000, 30_000);
        Assert.True(bomb.Length < 200);
        var (pixels, pixelsBody) = await UploadAsync(client, bomb, "small.png", "image/png");
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, pixels);
        Assert.Equal("media_too_many_pixels", pixelsBody.GetProperty("code").GetString());
        Assert.Contains("30000×30000", pixelsBody.GetProperty("message").GetString(), StringComparison.Ordinal);

        using var noFile = new MultipartFormDataContent { { new StringContent("x"), "other" } };
        using var missing = await client.PostAsync("/api/v1/file/uploads", noFile, Ct);
        Assert.Equal(HttpStatusCode.BadRequest, missing.StatusCode);
        Assert.Equal(0L, await FilesOfAsync(user));
    }

    [Fact]
    public async Task EXIF_with_a_GPS_position_is_gone_after_upload_and_the_picture_stays_a_JPEG()
    {
        var user = await fixture.CreateUserAsync("user");
        using var client = fixture.CreateClient(user.Token);
        var jpeg = WithExifGps(Picture(120, 80, SKEncodedImageFormat.Jpeg));
        Assert.True(Contains(jpeg, "Exif\0\0"u8) && Contains(jpeg, "GPS-48.8584N-2.2945E"u8));

        var (status, body) = await UploadAsync(client, jpeg, "IMG_0001.JPG", "application/octet-stream"); // the declared type does not matter
        Assert.Equal(HttpStatusCode.Created, status);
        Assert.Equal("image/jpeg", body.GetProperty("content_type").GetString());
        var kept = await fixture.CreateClient(null).GetByteArrayAsync(body.GetProperty("file_url").GetString(), Ct);
        Assert.False(Contains(kept, "Exif\0\0"u8), "the EXIF segment survived");
        Assert.False(Contains(kept, "GPS-48.8584N-2.2945E"u8), "the GPS position survived");
        using var codec = SKCodec.Create(new MemoryStream(kept));
        Assert.Equal((SKEncodedImageFormat.Jpeg, 120, 80), (codec.EncodedFormat, codec.Info.Width, codec.Info.Height));
    }

    [Fact]
    public async Task Another_users_file_is_404_an_expired_link_is_410_and_unstored_files_expire()
    {
        var owner = await fixture.CreateUserAsync("user");
        using var client = fixture.CreateClient(owner.Token);
        var (_, body) = await UploadAsync(client, Picture(40, 40, SKEncodedImageFormat.Webp), "a.webp", "image/webp", store: false);
        var id = body.GetProperty("file_id").GetString()!;
        Assert.Equal("image/webp", body.GetProperty("content_type").GetString());
        Assert.InRange(body.GetProperty("kept_until").GetDateTimeOffset(), DateTimeOffset.UtcNow.AddHours(23), DateTimeOffset.UtcNow.AddHours(25));

        using var stranger = fixture.CreateClient((await fixture.CreateUserAsync("user")).Token);
        Assert.Equal(HttpStatusCode.NotFound, (await stranger.GetAsync($"/api/v1/file/uploads/{id}", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await stranger.DeleteAsync($"/api/v1/file/uploads/{id}", Ct)).StatusCode);

        // A link signed for a time that has passed (as the file's retention end would give).
        var links = fixture.Services.GetRequiredService<MediaLinks>();
        var (expiredUrl, _) = links.For(new MediaFile { Id = Guid.ParseExact(id, "N"), ContentType = "image/webp", Origin = "upload", ExpiresAt = DateTimeOffset.UtcNow.AddMinutes(-5) });
        using var anonymous = fixture.CreateClient(null);
        using var expired = await anonymous.GetAsync(expiredUrl, Ct);
        Assert.Equal(HttpStatusCode.Gone, expired.StatusCode);
        Assert.Equal("media_link_expired", JsonDocument.Parse(await expired.Content.ReadAsStringAsync(Ct)).RootElement.GetProperty("code").GetString());

        // Retention ended: the file is gone for reads at once, and the sweep deletes it.
        await fixture.Database.ExecuteAsync($"UPDATE media_files SET expires_at = now() - interval '1 second' WHERE id = '{Guid.ParseExact(id, "N")}'");
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/api/v1/file/uploads/{id}", Ct)).StatusCode);
        await using (var scope = fixture.Services.CreateAsyncScope())
        {
            Assert.True(await scope.ServiceProvider.GetRequiredService<IMediaStore>().DeleteExpiredAsync(DateTimeOffset.UtcNow, Ct) >= 1);
        }
        Assert.Equal(0L, await fixture.Database.ScalarAsync<long>("SELECT count(*) FROM media_contents WHERE id = $1", Guid.ParseExact(id, "N")));

        // Deleting: the owner's file is gone, link and all.
        var (_, kept) = await UploadAsync(client, Picture(10, 10, SKEncodedImageFormat.Png), "b.png", "image/png");
        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync($"/api/v1/file/uploads/{kept.GetProperty("file_id").GetString()}", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await anonymous.GetAsync(kept.GetProperty("file_url").GetString(), Ct)).StatusCode);
    }

    private static bool Contains(byte[] haystack, ReadOnlySpan<byte> needle) => haystack.AsSpan().IndexOf(needle) >= 0;

    /// <summary>A PNG that declares its size and holds almost no data: a decoder that trusted it would allocate width × height.</summary>
    private static byte[] PngHeaderOnly(int width, int height)
    {
        using var png = new MemoryStream();
        png.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);
        var header = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, width);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), height);
        header[8] = 8; // bit depth; colour type 0 (grey)
        Chunk(png, "IHDR", header);
        using var deflated = new MemoryStream();
        using (var zlib = new ZLibStream(deflated, CompressionLevel.SmallestSize, leaveOpen: true))
        {
            zlib.Write(new byte[64]);
        }
        Chunk(png, "IDAT", deflated.ToArray());
        Chunk(png, "IEND", []);
        return png.ToArray();
    }

    private static void Chunk(Stream png, string type, byte[] data)
    {
        Span<byte> length = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(length, data.Length);
        png.Write(length);
        var typed = Encoding.ASCII.GetBytes(type).Concat(data).ToArray();
        png.Write(typed);
        Span<byte> crc = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(crc, Crc32.HashToUInt32(typed));
        png.Write(crc);
    }

    /// <summary>The JPEG with an APP1 EXIF segment right after its start: a TIFF header whose IFD points at a GPS IFD, and a position text.</summary>
    private static byte[] WithExifGps(byte[] jpeg)
    {
        var tiff = new List<byte>("II*\0"u8.ToArray());
        tiff.AddRange(BitConverter.GetBytes(8)); // IFD0 at 8
        tiff.AddRange(BitConverter.GetBytes((ushort)1)); // one entry: GPSInfo (0x8825), LONG, 1, at 26
        tiff.AddRange(BitConverter.GetBytes((ushort)0x8825));
        tiff.AddRange(BitConverter.GetBytes((ushort)4));
        tiff.AddRange(BitConverter.GetBytes(1));
        tiff.AddRange(BitConverter.GetBytes(26));
        tiff.AddRange(BitConverter.GetBytes(0)); // no next IFD
        tiff.AddRange(BitConverter.GetBytes((ushort)1)); // GPS IFD: GPSLatitudeRef 'N'
        tiff.AddRange(BitConverter.GetBytes((ushort)1));
        tiff.AddRange(BitConverter.GetBytes((ushort)2));
        tiff.AddRange(BitConverter.GetBytes(2));
        tiff.AddRange("N\0\0\0"u8.ToArray());
        tiff.AddRange(BitConverter.GetBytes(0));
        tiff.AddRange("GPS-48.8584N-2.2945E"u8.ToArray());
        var payload = "Exif\0\0"u8.ToArray().Concat(tiff).ToArray();
        var segment = new byte[4 + payload.Length];
        segment[0] = 0xFF;
        segment[1] = 0xE1;
        BinaryPrimitives.WriteUInt16BigEndian(segment.AsSpan(2), (ushort)(payload.Length + 2));
        payload.CopyTo(segment, 4);
        return [.. jpeg[..2], .. segment, .. jpeg[2..]];
    }
}
