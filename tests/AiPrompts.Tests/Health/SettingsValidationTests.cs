using AiPrompts.Tests.Infrastructure;
using Microsoft.Extensions.Options;

namespace AiPrompts.Tests.Health;

/// <summary>A setting out of its range stops the Api before it serves anything, with a message that names the setting.</summary>
public sealed class SettingsValidationTests
{
    private sealed class Misconfigured(string key, string value) : ApiFactory
    {
        protected override IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?> { [key] = value };
    }

    [Theory]
    [InlineData("Jobs:Concurrency", "0", "Jobs:Concurrency")]
    [InlineData("Jobs:LeaseDuration", "00:00:00.100", "LeaseDuration")]
    [InlineData("PromptRequests:MaxPromptLength", "0", "PromptRequests:MaxPromptLength")]
    [InlineData("Studio:Wait", "-00:00:01", "Studio:Wait")]
    [InlineData("Assistants:DefaultAssistantId", "not-an-assistant", "Assistants:DefaultAssistantId")]
    [InlineData("Media:Store", "ftp", "Media:Store")]
    [InlineData("Vendors:Timeout", "00:00:00", "Vendors:Timeout")]
    public async Task A_setting_out_of_range_stops_start_up_naming_it(string key, string value, string named)
    {
        // Under load, WebApplicationFactory can surface its own race instead of the start-up failure: the failed host has
        // already disposed its services when the factory reads them (ObjectDisposedException, seen about once in a dozen
        // whole-suite runs). That says nothing about the setting, so that one case is tried once more, on a new factory;
        // the assertion is the same either way: a validation failure that names the setting.
        var failure = await StartFailureAsync(key, value);
        if (failure is ObjectDisposedException)
        {
            failure = await StartFailureAsync(key, value);
        }
        var validation = failure as OptionsValidationException ?? failure.InnerException as OptionsValidationException
            ?? (failure as AggregateException)?.InnerExceptions.OfType<OptionsValidationException>().FirstOrDefault();
        Assert.True(validation is not null, $"Expected an options validation failure, got {failure}");
        Assert.Contains(named, validation.Message, StringComparison.Ordinal);
    }

    private static async Task<Exception> StartFailureAsync(string key, string value)
    {
        var factory = new Misconfigured(key, value);
        try
        {
            return await Assert.ThrowsAnyAsync<Exception>(async () => await factory.InitializeAsync());
        }
        finally
        {
            await factory.DisposeAsync();
        }
    }
}
