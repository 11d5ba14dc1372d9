using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Text.Json;
using AiPrompts.Api.Jobs;
using AiPrompts.Core.Assistants;
using AiPrompts.Core.Jobs;

namespace AiPrompts.Api.Studio;

/// <summary>
/// A conversation's events: <c>ready</c> at once (the stream is open), every message once, then each one again when it
/// changes: told through Redis by its steps' jobs (the conversation's topic), and read again from the database every few
/// seconds whatever Redis does. <c>ping</c> after 15 s of quiet keeps the connection open through proxies.
/// </summary>
internal sealed class ConversationEventStream(Guid threadId, MessageViews views, JobEvents events, TimeProvider time) : JobEventStream(events, time)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private readonly Dictionary<string, ConversationMessage> _sent = [];

    protected override (TimeSpan Live, TimeSpan WithoutRedis) PollEvery => (TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(1));

    protected override bool Pings => true;

    protected override bool IsTopic => true;

    protected override Task<Guid?> ChannelAsync(CancellationToken cancellationToken) => Task.FromResult<Guid?>(threadId);

    protected override async IAsyncEnumerable<SseItem<string>> OpenAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        yield return new SseItem<string>(JsonSerializer.Serialize(new { conversation_id = OpenAIIds.Of(OpenAIIds.Thread, threadId) }, Json), "ready");
        await foreach (var item in ChangedAsync(cancellationToken))
        {
            yield return item;
        }
    }

    protected override IAsyncEnumerable<SseItem<string>> OnEventAsync(JobEvent next, CancellationToken cancellationToken) => ChangedAsync(cancellationToken);

    protected override IAsyncEnumerable<SseItem<string>> OnPollAsync(CancellationToken cancellationToken) => ChangedAsync(cancellationToken);

    /// <summary>The messages that are new to the stream or changed since it sent them.</summary>
    private async IAsyncEnumerable<SseItem<string>> ChangedAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        foreach (var message in await views.ListAsync(threadId, cancellationToken))
        {
            // The signed image link changes on every read; a message is new to the stream when anything else does.
            if (!_sent.TryGetValue(message.Id, out var before) || before with { ImageUrl = null } != message with { ImageUrl = null } || (before.ImageUrl is null) != (message.ImageUrl is null))
            {
                _sent[message.Id] = message;
                yield return new SseItem<string>(JsonSerializer.Serialize(message, Json), "message") { EventId = $"{message.Id}:{message.Status}" };
            }
        }
    }
}
