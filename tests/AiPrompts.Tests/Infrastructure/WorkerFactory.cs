namespace AiPrompts.Tests.Infrastructure;

/// <summary>The Api in-process and one real Worker process beside it, for tests that need requests to run.</summary>
public class WorkerFactory : JobsFactory
{
    public WorkerProcess Worker { get; private set; } = null!;

    public override async ValueTask InitializeAsync()
    {
        await base.InitializeAsync();
        Worker = await StartWorkerAsync();
    }

    public override async ValueTask DisposeAsync()
    {
        await Worker.DisposeAsync();
        await base.DisposeAsync();
        GC.SuppressFinalize(this);
    }
}
