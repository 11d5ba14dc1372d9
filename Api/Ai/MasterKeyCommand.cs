using AiPrompts.Core.Data;
using AiPrompts.Core.Keys;

namespace AiPrompts.Api.Ai;

/// <summary><c>dotnet AiPrompts.Api.dll rotate-master-key</c>: re-encrypts every stored vendor key under the current master key, then exits.</summary>
internal static partial class MasterKeyCommand
{
    public const string Name = "rotate-master-key";

    public static async Task<int> RunAsync(WebApplication app)
    {
        await using var scope = app.Services.CreateAsyncScope();
        var logger = scope.ServiceProvider.GetRequiredService<ILoggerFactory>().CreateLogger("AiPrompts.Api.MasterKey");
        try
        {
            var count = await MasterKeyRotation.ReencryptAllAsync(
                scope.ServiceProvider.GetRequiredService<AppDbContext>(),
                scope.ServiceProvider.GetRequiredService<KeyVault>(),
                scope.ServiceProvider.GetRequiredService<TimeProvider>(),
                app.Lifetime.ApplicationStopping);
            LogRotated(logger, count, scope.ServiceProvider.GetRequiredService<KeyVault>().CurrentVersion);
            return 0;
        }
        catch (KeyDecryptionException ex)
        {
            LogFailed(logger, ex.Message);
            return 1;
        }
    }

    [LoggerMessage(EventId = 2201, Level = LogLevel.Warning, Message = "Re-encrypted {Count} vendor keys under master key version {Version}")]
    private static partial void LogRotated(ILogger logger, int count, int version);

    [LoggerMessage(EventId = 2202, Level = LogLevel.Error, Message = "Master key rotation failed, nothing was changed: {Reason}")]
    private static partial void LogFailed(ILogger logger, string reason);
}
