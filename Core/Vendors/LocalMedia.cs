using System.Buffers.Binary;
using System.Drawing;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.AI;
using SkiaSharp;

namespace AiPrompts.Core.Vendors;

#pragma warning disable MEAI001 // IImageGenerator and ITextToSpeechClient are experimental in Microsoft.Extensions.AI.Abstractions 10.x.

/// <summary>The built-in image model: a real PNG whose colours and pattern follow from the prompt, deterministically.</summary>
public sealed class LocalImageGenerator(string modelId) : IImageGenerator
{
    public const int DefaultSize = 256;
    public const int MaxSize = 1024;

    public Task<ImageGenerationResponse> GenerateAsync(ImageGenerationRequest request, ImageGenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        var size = options?.ImageSize ?? new Size(DefaultSize, DefaultSize);
        var width = Math.Clamp(size.Width, 1, MaxSize);
        var height = Math.Clamp(size.Height, 1, MaxSize);
        var count = Math.Clamp(options?.Count ?? 1, 1, 4);
        var contents = new List<AIContent>(count);
        for (var i = 0; i < count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var seed = SHA256.HashData(Encoding.UTF8.GetBytes($"{modelId}|{i}|{request.Prompt}"));
            contents.Add(new DataContent(Png.Render(width, height, seed), "image/png") { Name = $"local-{Convert.ToHexStringLower(seed)[..12]}.png" });
        }
        return Task.FromResult(new ImageGenerationResponse(contents)
        {
            Usage = new UsageDetails { InputTokenCount = LocalChatClient.EstimateTokens(request.Prompt ?? ""), OutputTokenCount = 0 },
        });
    }

    public object? GetService(Type serviceType, object? serviceKey = null) => serviceKey is null && serviceType.IsInstanceOfType(this) ? this : null;

    public void Dispose()
    {
    }
}

/// <summary>The built-in speech model: a real 16 kHz mono WAV, one short tone per character of the text.</summary>
public sealed class LocalSpeechClient(string modelId) : ITextToSpeechClient
{
    public const int SampleRate = 16_000;
    private const double SecondsPerCharacter = 0.06;
    private const double MaxSeconds = 20;

    public Task<TextToSpeechResponse> GetAudioAsync(string text, TextToSpeechOptions? options = null, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var audio = Wav.Render(text, SampleRate, SecondsPerCharacter, MaxSeconds);
        return Task.FromResult(new TextToSpeechResponse([new DataContent(audio, "audio/wav")])
        {
            ModelId = modelId,
            Usage = new UsageDetails { InputTokenCount = text.Length, OutputTokenCount = 0 },
        });
    }

    public async IAsyncEnumerable<TextToSpeechResponseUpdate> GetStreamingAudioAsync(
        string text, TextToSpeechOptions? options = null, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var response = await GetAudioAsync(text, options, cancellationToken);
        foreach (var update in response.ToTextToSpeechResponseUpdates())
        {
            yield return update;
        }
    }

    public object? GetService(Type serviceType, object? serviceKey = null) => serviceKey is null && serviceType.IsInstanceOfType(this) ? this : null;

    public void Dispose()
    {
    }
}

/// <summary>The local model's picture: a gradient between two colours of the seed, in diagonal bands, drawn and encoded as PNG by SkiaSharp.</summary>
public static class Png
{
    public static byte[] Render(int width, int height, ReadOnlySpan<byte> seed)
    {
        var (r1, g1, b1, r2, g2, b2) = (seed[0], seed[1], seed[2], seed[3], seed[4], seed[5]);
        var stripe = 4 + seed[6] % 28;
        var pixels = new SKColor[width * height];
        for (var y = 0; y < height; y++)
        {
            for (var x = 0; x < width; x++)
            {
                var t = (x + y) / (double)(width + height);
                var band = (x / stripe + y / stripe) % 2 == 0 ? 1.0 : 0.85;
                pixels[y * width + x] = new SKColor(
                    (byte)((r1 + (r2 - r1) * t) * band), (byte)((g1 + (g2 - g1) * t) * band), (byte)((b1 + (b2 - b1) * t) * band));
            }
        }
        using var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Opaque)) { Pixels = pixels };
        using var image = SKImage.FromBitmap(bitmap);
        using var png = image.Encode(SKEncodedImageFormat.Png, 100);
        return png.ToArray();
    }
}

/// <summary>A minimal WAV encoder: PCM, 16-bit, mono.</summary>
public static class Wav
{
    public static byte[] Render(string text, int sampleRate, double secondsPerCharacter, double maxSeconds)
    {
        var characters = string.IsNullOrEmpty(text) ? " " : text;
        var perCharacter = (int)(sampleRate * secondsPerCharacter);
        var total = (int)Math.Min(characters.Length * (long)perCharacter, (long)(sampleRate * maxSeconds));
        var data = new byte[total * 2];
        for (var i = 0; i < total; i++)
        {
            var c = characters[Math.Min(i / perCharacter, characters.Length - 1)];
            var amplitude = char.IsWhiteSpace(c) ? 0 : 0.3;
            var frequency = 220 + (c % 64) * 12.5;
            var position = i % perCharacter;
            var envelope = Math.Min(1, Math.Min(position, perCharacter - position) / (sampleRate * 0.005));
            var sample = (short)(Math.Sin(2 * Math.PI * frequency * i / sampleRate) * amplitude * envelope * short.MaxValue);
            BinaryPrimitives.WriteInt16LittleEndian(data.AsSpan(i * 2), sample);
        }
        var output = new byte[44 + data.Length];
        var span = output.AsSpan();
        Encoding.ASCII.GetBytes("RIFF").CopyTo(span);
        BinaryPrimitives.WriteInt32LittleEndian(span[4..], 36 + data.Length);
        Encoding.ASCII.GetBytes("WAVEfmt ").CopyTo(span[8..]);
        BinaryPrimitives.WriteInt32LittleEndian(span[16..], 16);
        BinaryPrimitives.WriteInt16LittleEndian(span[20..], 1); // PCM
        BinaryPrimitives.WriteInt16LittleEndian(span[22..], 1); // mono
        BinaryPrimitives.WriteInt32LittleEndian(span[24..], sampleRate);
        BinaryPrimitives.WriteInt32LittleEndian(span[28..], sampleRate * 2);
        BinaryPrimitives.WriteInt16LittleEndian(span[32..], 2);
        BinaryPrimitives.WriteInt16LittleEndian(span[34..], 16);
        Encoding.ASCII.GetBytes("data").CopyTo(span[36..]);
        BinaryPrimitives.WriteInt32LittleEndian(span[40..], data.Length);
        data.CopyTo(span[44..]);
        return output;
    }
}
