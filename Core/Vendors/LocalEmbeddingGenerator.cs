using System.Buffers.Binary;
using System.Globalization;
using System.IO.Hashing;
using System.Text;
using Microsoft.Extensions.AI;

namespace AiPrompts.Core.Vendors;

/// <summary>
/// The built-in embedding model: no network, no key, the same vector for the same text every time. Each word and each
/// three-letter piece of a word is hashed into one of the vector's dimensions (feature hashing), and the vector is
/// normalised to length 1, so texts that share words point the same way and cosine similarity means something. 256
/// dimensions unless the request asks for others. Usage is counted like the local text model's (about four characters a token).
/// </summary>
public sealed class LocalEmbeddingGenerator(string modelId) : IEmbeddingGenerator<string, Embedding<float>>
{
    public const int DefaultDimensions = 256;

    private readonly EmbeddingGeneratorMetadata _metadata = new("local", null, modelId, DefaultDimensions);

    public Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(IEnumerable<string> values, EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var dimensions = options?.Dimensions ?? DefaultDimensions;
        var embeddings = new GeneratedEmbeddings<Embedding<float>>();
        long tokens = 0;
        foreach (var value in values)
        {
            embeddings.Add(new Embedding<float>(Vector(value, dimensions)) { ModelId = modelId, CreatedAt = null });
            tokens += LocalChatClient.EstimateTokens(value);
        }
        embeddings.Usage = new UsageDetails { InputTokenCount = tokens, OutputTokenCount = 0, TotalTokenCount = tokens };
        return Task.FromResult(embeddings);
    }

    public static float[] Vector(string text, int dimensions)
    {
        var vector = new float[dimensions];
        foreach (var word in text.ToLower(CultureInfo.InvariantCulture).Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries))
        {
            var trimmed = word.Trim('.', ',', ';', ':', '!', '?', '"', '\'', '(', ')');
            if (trimmed.Length == 0)
            {
                continue;
            }
            Add(vector, "w:" + trimmed, 1f);
            var padded = $"<{trimmed}>";
            for (var i = 0; i + 3 <= padded.Length; i++)
            {
                Add(vector, string.Concat("t:", padded.AsSpan(i, 3)), 0.5f);
            }
        }
        var length = MathF.Sqrt(vector.Sum(x => x * x));
        if (length > 0)
        {
            for (var i = 0; i < vector.Length; i++)
            {
                vector[i] /= length;
            }
        }
        return vector;
    }

    /// <summary>The feature's dimension and sign from its hash (the sign keeps collisions from adding up).</summary>
    private static void Add(float[] vector, string feature, float weight)
    {
        var hash = BinaryPrimitives.ReadUInt64LittleEndian(XxHash64.Hash(Encoding.UTF8.GetBytes(feature)));
        vector[(int)(hash % (ulong)vector.Length)] += (hash & (1UL << 63)) == 0 ? weight : -weight;
    }

    public object? GetService(Type serviceType, object? serviceKey = null) =>
        serviceKey is not null ? null
        : serviceType == typeof(EmbeddingGeneratorMetadata) ? _metadata
        : serviceType.IsInstanceOfType(this) ? this
        : null;

    public void Dispose()
    {
    }
}
