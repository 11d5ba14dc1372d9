using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.AI;

namespace AiPrompts.Core.Vendors;

/// <summary>
/// Vendor clients kept and shared between calls, for the path where building one per call costs too much (the gateway's
/// synchronous calls): each pipeline (the SDK client, Microsoft.Extensions.AI's OpenTelemetry layer with its own
/// ActivitySource and Meter, logging, our layers) is built once per target — provider, endpoint, model, prices and key —
/// and reused while it is used. At most <see cref="MaxClients"/> are kept: the least recently used one goes first, and is
/// disposed. Callers never dispose what they get. The pool's index holds a key only as its hash.
/// </summary>
public sealed class VendorClientPool(VendorClientFactory factory, TimeProvider time) : IDisposable
{
    public const int MaxClients = 256;

    private readonly ConcurrentDictionary<string, Entry> _clients = new(StringComparer.Ordinal);

    private sealed class Entry(IDisposable client, long used)
    {
        public IDisposable Client { get; } = client;

        public long Used = used;
    }

    public IChatClient Chat(VendorTarget target) => (IChatClient)Get("chat", target, () => factory.CreateChatClient(target));

    public IEmbeddingGenerator<string, Embedding<float>> Embeddings(VendorTarget target) =>
        (IEmbeddingGenerator<string, Embedding<float>>)Get("embeddings", target, () => factory.CreateEmbeddingGenerator(target));

    private IDisposable Get(string kind, VendorTarget target, Func<IDisposable> create)
    {
        var key = Key(kind, target);
        var now = time.GetTimestamp();
        if (_clients.TryGetValue(key, out var found))
        {
            Volatile.Write(ref found.Used, now);
            return found.Client;
        }
        var entry = _clients.GetOrAdd(key, _ => new Entry(create(), now));
        if (_clients.Count > MaxClients)
        {
            Trim(key);
        }
        return entry.Client;
    }

    /// <summary>Drops the least recently used clients down to the limit (never the one just asked for).</summary>
    private void Trim(string keep)
    {
        foreach (var (key, entry) in _clients.Where(p => p.Key != keep).OrderBy(p => Volatile.Read(ref p.Value.Used)).Take(_clients.Count - MaxClients).ToList())
        {
            if (_clients.TryRemove(KeyValuePair.Create(key, entry)))
            {
                entry.Client.Dispose();
            }
        }
    }

    private static string Key(string kind, VendorTarget target) => string.Join('\n',
        kind, target.ProviderId, target.ProviderKind, target.BaseUrl ?? "", target.ModelId, target.KeySource.ToString(),
        target.Prices.InputPerMillion?.ToString(CultureInfo.InvariantCulture) ?? "", target.Prices.OutputPerMillion?.ToString(CultureInfo.InvariantCulture) ?? "",
        target.Credential is { } credential ? Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(credential.Secret))) : "");

    public void Dispose()
    {
        foreach (var entry in _clients.Values)
        {
            entry.Client.Dispose();
        }
        _clients.Clear();
    }
}
