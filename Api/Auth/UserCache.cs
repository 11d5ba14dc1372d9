using AiPrompts.Core.Caching;

namespace AiPrompts.Api.Auth;

/// <summary>A user as authentication needs them: identity, role, whether disabled, and the security stamp tokens must carry.</summary>
internal sealed record CachedUser(Guid Id, string Email, string DisplayName, string Role, bool IsDisabled, Guid SecurityStamp);

/// <summary>An API key as authentication needs it: whose it is, and until when it is valid.</summary>
internal sealed record CachedApiKey(Guid KeyId, Guid UserId, DateTimeOffset? ExpiresAt, bool Revoked, string[] Scopes);

/// <summary>
/// Authentication's view of users and API keys, cached in process so that a request does not cost a
/// database round trip, and kept exact by <see cref="CacheInvalidation"/>: a change of a user's access
/// or a revoked key is confirmed by every Api instance before the change answers, so "disabled" still
/// means "refused at once".
/// </summary>
internal sealed class UserCache
{
    public const string UserScope = "user";
    public const string ApiKeyScope = "api_key";

    private static readonly TimeSpan MaxAge = TimeSpan.FromMinutes(1);
    private readonly CacheInvalidation _bus;

    public UserCache(CacheInvalidation bus, TimeProvider time)
    {
        _bus = bus;
        Users = new CoherentCache<CachedUser>(bus, null, MaxAge, 100_000, time);
        ApiKeys = new CoherentCache<CachedApiKey>(bus, ApiKeyScope, MaxAge, 100_000, time);
        bus.Register(UserScope, id =>
        {
            Users.Evict(id);
            // The user's keys carry their access too.
            ApiKeys.EvictWhere(k => id == "*" || k.UserId.ToString() == id);
        });
    }

    public CoherentCache<CachedUser> Users { get; }
    public CoherentCache<CachedApiKey> ApiKeys { get; }

    public static string KeyOf(byte[] keyHash) => Convert.ToHexString(keyHash);

    /// <summary>After a change of the user's access committed.</summary>
    public Task UserChangedAsync(Guid userId, CancellationToken cancellationToken) => _bus.PublishAsync(UserScope, userId.ToString(), cancellationToken);

    /// <summary>After a key was revoked.</summary>
    public Task ApiKeyChangedAsync(byte[] keyHash, CancellationToken cancellationToken) => _bus.PublishAsync(ApiKeyScope, KeyOf(keyHash), cancellationToken);
}
