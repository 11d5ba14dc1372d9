using System.Buffers.Text;
using System.Text;

namespace AiPrompts.Api;

/// <summary>Keyset cursor: the last row's (created_at, id), opaque to clients.</summary>
internal static class KeysetCursor
{
    public static string Of(DateTimeOffset createdAt, Guid id) =>
        Base64Url.EncodeToString(Encoding.ASCII.GetBytes($"{createdAt.UtcTicks}:{id:N}"));

    public static (DateTimeOffset CreatedAt, Guid Id)? Parse(string cursor)
    {
        try
        {
            var parts = Encoding.ASCII.GetString(Base64Url.DecodeFromChars(cursor)).Split(':');
            return parts.Length == 2 && long.TryParse(parts[0], out var ticks) && ticks > 0 && ticks < DateTimeOffset.MaxValue.UtcTicks && Guid.TryParseExact(parts[1], "N", out var id)
                ? (new DateTimeOffset(ticks, TimeSpan.Zero), id)
                : null;
        }
        catch (FormatException)
        {
            return null;
        }
    }
}
