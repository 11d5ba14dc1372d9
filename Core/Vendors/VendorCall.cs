using System.Globalization;
using System.Text;
using System.Text.Json;

namespace AiPrompts.Core.Vendors;

/// <summary>
/// What the vendors' HttpClient saw of one call's answer, for what an SDK does not expose: the Retry-After
/// header, and the end of the body, where OpenRouter puts an error inside a 200 answer (<c>finish_reason:
/// "error"</c>, which the OpenAI SDK's parser rejects). The adapters open one per call; the handler on the
/// vendors' HttpClient fills the open one.
/// </summary>
public sealed class VendorCall : IDisposable
{
    private const int TailBytes = 16 * 1024;
    private static readonly AsyncLocal<VendorCall?> Open = new();
    private readonly VendorCall? _previous;
    private readonly Lock _gate = new();
    private byte[]? _tail; // made by the first byte of an answer: calls that read none (the local models) cost nothing
    private long _written;

    private VendorCall()
    {
        _previous = Open.Value;
        Open.Value = this;
    }

    public string? RetryAfter { get; private set; }

    public static VendorCall Begin() => new();

    /// <summary>Opens this call again for the code that follows (an async iterator resumes in its caller's context).</summary>
    public void Resume() => Open.Value = this;

    internal static VendorCall? Current => Open.Value;

    internal void Record(HttpResponseMessage response)
    {
        RetryAfter = response.Headers.RetryAfter switch
        {
            { Delta: { } delta } => ((int)delta.TotalSeconds).ToString(CultureInfo.InvariantCulture),
            { Date: { } date } => date.ToString("R", CultureInfo.InvariantCulture),
            _ => null,
        };
    }

    internal void Append(ReadOnlySpan<byte> data)
    {
        lock (_gate)
        {
            _tail ??= new byte[TailBytes];
            if (data.Length >= TailBytes)
            {
                data[^TailBytes..].CopyTo(_tail);
                _written += data.Length;
                return;
            }
            var at = (int)(_written % TailBytes);
            var first = Math.Min(data.Length, TailBytes - at);
            data[..first].CopyTo(_tail.AsSpan(at));
            data[first..].CopyTo(_tail);
            _written += data.Length;
        }
    }

    private string Tail()
    {
        lock (_gate)
        {
            if (_tail is null)
            {
                return "";
            }
            if (_written <= TailBytes)
            {
                return Encoding.UTF8.GetString(_tail, 0, (int)_written);
            }
            var at = (int)(_written % TailBytes);
            return Encoding.UTF8.GetString([.. _tail.AsSpan(at), .. _tail.AsSpan(0, at)]);
        }
    }

    /// <summary>
    /// The error object a vendor put in the answer it sent, if any: a top-level <c>error</c>, or a choice whose
    /// <c>finish_reason</c> is "error" (with its <c>error</c>, or none). The body is JSON, or server-sent events
    /// whose last such chunk counts.
    /// </summary>
    public bool TryGetErrorInBody(out JsonElement? error)
    {
        error = null;
        var text = Tail();
        if (!text.Contains("\"error\"", StringComparison.Ordinal))
        {
            return false;
        }
        var candidates = text.TrimStart().StartsWith('{') ? [text] : text.Split('\n')
            .Where(line => line.StartsWith("data:", StringComparison.Ordinal))
            .Select(line => line[5..].Trim())
            .Reverse();
        foreach (var candidate in candidates)
        {
            if (!candidate.Contains("\"error\"", StringComparison.Ordinal))
            {
                continue;
            }
            try
            {
                using var document = JsonDocument.Parse(candidate);
                var root = document.RootElement;
                if (root.ValueKind != JsonValueKind.Object)
                {
                    continue;
                }
                if (root.TryGetProperty("error", out var top) && top.ValueKind != JsonValueKind.Null)
                {
                    error = top.Clone();
                    return true;
                }
                if (root.TryGetProperty("choices", out var choices) && choices.ValueKind == JsonValueKind.Array)
                {
                    foreach (var choice in choices.EnumerateArray())
                    {
                        if (choice.ValueKind == JsonValueKind.Object && choice.TryGetProperty("finish_reason", out var reason) && reason.ValueKind == JsonValueKind.String && reason.ValueEquals("error"))
                        {
                            error = choice.TryGetProperty("error", out var e) ? e.Clone() : null;
                            return true;
                        }
                    }
                }
            }
            catch (JsonException)
            {
                // A chunk cut by the tail's start: not the one that ended the answer.
            }
        }
        return false;
    }

    public void Dispose() => Open.Value = _previous;
}

/// <summary>The handler on the vendors' HttpClient that feeds the open <see cref="VendorCall"/>.</summary>
public sealed class VendorCallHandler : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var response = await base.SendAsync(request, cancellationToken);
        if (VendorCall.Current is { } call)
        {
            // The body as it was, with every byte read also kept in the call's tail.
            call.Record(response);
            var original = response.Content;
            var recorded = new StreamContent(new RecordingStream(await original.ReadAsStreamAsync(cancellationToken), call));
            foreach (var header in original.Headers)
            {
                recorded.Headers.TryAddWithoutValidation(header.Key, header.Value);
            }
            response.Content = recorded;
        }
        return response;
    }

    private sealed class RecordingStream(Stream inner, VendorCall call) : Stream
    {
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            var read = inner.Read(buffer);
            call.Append(buffer[..read]);
            return read;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var read = await inner.ReadAsync(buffer, cancellationToken);
            call.Append(buffer.Span[..read]);
            return read;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }
            base.Dispose(disposing);
        }
    }
}
