using System.Runtime.CompilerServices;
using Microsoft.Extensions.AI;

namespace AiPrompts.Core.Vendors;

#pragma warning disable MEAI001 // IImageGenerator is experimental in Microsoft.Extensions.AI.Abstractions 10.x.

/// <summary>
/// The local models' <see cref="VendorOptions.LocalLatency"/>: each call waits that long first, as a vendor's
/// would, so waits, timeouts and a Worker lost mid-call can be rehearsed with no vendor at all.
/// </summary>
internal sealed class DelayedChatClient(IChatClient inner, TimeSpan delay, TimeProvider time) : DelegatingChatClient(inner)
{
    public override async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        await Task.Delay(delay, time, cancellationToken);
        return await base.GetResponseAsync(messages, options, cancellationToken);
    }

    public override async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(
        IEnumerable<ChatMessage> messages, ChatOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await Task.Delay(delay, time, cancellationToken);
        await foreach (var update in base.GetStreamingResponseAsync(messages, options, cancellationToken))
        {
            yield return update;
        }
    }
}

/// <inheritdoc cref="DelayedChatClient"/>
internal sealed class DelayedImageGenerator(IImageGenerator inner, TimeSpan delay, TimeProvider time) : DelegatingImageGenerator(inner)
{
    public override async Task<ImageGenerationResponse> GenerateAsync(ImageGenerationRequest request, ImageGenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        await Task.Delay(delay, time, cancellationToken);
        return await base.GenerateAsync(request, options, cancellationToken);
    }
}
