using System.ComponentModel.DataAnnotations;
using System.Text;

namespace AiPrompts.Api.Auth;

internal sealed class JwtOptions
{
    public const string Section = "Auth:Jwt";

    /// <summary>HMAC-SHA256 key, at least 32 bytes of UTF-8. Required outside Development.</summary>
    public string? SigningKey { get; set; }

    [Required]
    public string Issuer { get; set; } = "aiprompts";

    [Required]
    public string Audience { get; set; } = "aiprompts-api";

    [Range(typeof(TimeSpan), "00:01:00", "1.00:00:00")]
    public TimeSpan AccessTokenLifetime { get; set; } = TimeSpan.FromHours(1);

    public static readonly TimeSpan ClockSkew = TimeSpan.FromSeconds(30);

    public byte[] KeyBytes => Encoding.UTF8.GetBytes(SigningKey ?? "");
}
