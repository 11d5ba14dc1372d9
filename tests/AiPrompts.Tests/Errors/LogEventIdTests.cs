using System.Reflection;
using Microsoft.Extensions.Logging;

namespace AiPrompts.Tests.Errors;

/// <summary>Every log line's EventId names one message: an operator who filters on it finds that message and no other.</summary>
public sealed class LogEventIdTests
{
    [Fact]
    public void Each_event_id_is_used_by_one_log_message_only()
    {
        Assembly[] assemblies = [typeof(Program).Assembly, typeof(Core.Jobs.JobRunner).Assembly, Assembly.LoadFrom(Infrastructure.WorkerProcess.WorkerDll())];
        var messages = assemblies.SelectMany(a => a.GetTypes())
            .SelectMany(t => t.GetMethods(BindingFlags.Static | BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
            .Select(m => (Method: $"{m.DeclaringType!.Name}.{m.Name}", Attribute: m.GetCustomAttribute<LoggerMessageAttribute>()))
            .Where(m => m.Attribute is not null)
            .ToList();
        Assert.True(messages.Count >= 30, $"Only {messages.Count} log messages were found: the scan is not reading the assemblies.");
        var shared = messages.GroupBy(m => m.Attribute!.EventId).Where(g => g.Count() > 1)
            .Select(g => $"{g.Key}: {string.Join(", ", g.Select(m => m.Method))}").ToList();
        Assert.True(shared.Count == 0, $"EventIds used twice: {string.Join("; ", shared)}");
    }
}
