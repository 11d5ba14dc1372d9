using System.Security.Cryptography;
using Aspire.Hosting.Publishing;

namespace AiPrompts.AppHost;

/// <summary>A new random 256-bit key in base64: the form the vendor-key master key must have.</summary>
internal sealed class RandomKeyDefault : ParameterDefault
{
    public override string GetDefaultValue() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    /// <summary>A deployment generates its own secret; the manifest only says so, it never carries one.</summary>
    public override void WriteToManifest(ManifestPublishingContext context) =>
        new GenerateParameterDefault { MinLength = 44, Special = false }.WriteToManifest(context);
}
