using AiPrompts.Core.Jobs;

namespace AiPrompts.Worker;

/// <summary>Runs the job engine once the database schema is current; stopping the host drains it.</summary>
internal sealed class JobWorker(SchemaGate schema, JobRunner runner) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await schema.Ready.WaitAsync(stoppingToken);
        }
        catch (OperationCanceledException)
        {
            return;
        }
        await runner.RunAsync(stoppingToken);
    }
}
