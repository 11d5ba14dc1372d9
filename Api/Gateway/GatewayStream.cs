using AiPrompts.Core.Vendors;
using Microsoft.Extensions.AI;

namespace AiPrompts.Api.Gateway;

/// <summary>
/// The one way a gateway call streams (chat completions and responses say only what they write): the first update is
/// awaited before the answer starts, so a vendor's refusal is still an HTTP error; then the surface writes its events; a
/// vendor failure mid-stream becomes an error event; a client that goes away cancels the vendor call (the request's token
/// is the call's) and the call is recorded with what was metered, or streamed, until then. The client is the pool's
/// (<see cref="VendorClientPool"/>): the stream disposes only its enumerator, once.
/// </summary>
internal abstract class GatewayStream(GatewayCallScope call, IChatClient client) : IResult
{
    private IAsyncEnumerator<ChatResponseUpdate>? _updates;
    private bool _hasFirst;
    private int _disposed;

    protected GatewayCallScope Call => call;

    /// <summary>What the vendor metered, once it said (the metering layer's last update).</summary>
    protected MeteredUsage? Metered { get; private set; }

    /// <summary>The characters of text streamed so far: the estimate of a call stopped before the vendor metered it.</summary>
    protected long Streamed { get; set; }

    /// <summary>Starts the vendor's stream and waits for its first update: the stream to answer with, or the refusal.</summary>
    public async Task<IResult> StartAsync(IEnumerable<ChatMessage> messages, ChatOptions options, HttpContext http, CancellationToken cancellationToken)
    {
        call.VendorStarting(streaming: true);
        _updates = client.GetStreamingResponseAsync(messages, options, cancellationToken).GetAsyncEnumerator(cancellationToken);
        try
        {
            _hasFirst = await _updates.MoveNextAsync();
            return this;
        }
        catch (VendorException ex)
        {
            call.Failed(ex);
            await DisposeAsync();
            return GatewayApi.VendorProblem(http, ex);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            call.Stopped(null);
            await DisposeAsync();
            throw;
        }
    }

    /// <summary>The vendor's updates, the first one included; the metering layer's figures are taken as they pass.</summary>
    protected async IAsyncEnumerable<ChatResponseUpdate> UpdatesAsync()
    {
        for (var has = _hasFirst; has; has = await _updates!.MoveNextAsync())
        {
            var update = _updates!.Current;
            Metered = MeteredUsage.From(update.AdditionalProperties) ?? Metered;
            yield return update;
        }
        call.VendorAnswered();
    }

    /// <summary>Writes the surface's events from <see cref="UpdatesAsync"/>, to the end of the answer.</summary>
    protected abstract Task WriteEventsAsync(HttpResponse response, CancellationToken cancellationToken);

    /// <summary>A vendor failure after the answer has begun, as the surface's error event.</summary>
    protected abstract Task WriteErrorAsync(HttpResponse response, VendorException error);

    public async Task ExecuteAsync(HttpContext httpContext)
    {
        var response = httpContext.Response;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        var cancellationToken = httpContext.RequestAborted;
        try
        {
            await WriteEventsAsync(response, cancellationToken);
        }
        catch (VendorException ex)
        {
            call.Failed(ex);
            await WriteErrorAsync(response, ex);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            call.Stopped(Metered, Streamed);
        }
        finally
        {
            await DisposeAsync();
        }
    }

    /// <summary>The usage the vendor reported, in Microsoft.Extensions.AI's terms, for the surface's usage event.</summary>
    protected UsageDetails Usage() => MeteredUsage.Details(Metered);

    private async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }
        if (_updates is not null)
        {
            await _updates.DisposeAsync();
        }
    }
}
