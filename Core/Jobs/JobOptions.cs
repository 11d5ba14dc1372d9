namespace AiPrompts.Core.Jobs;

/// <summary>The job engine's settings ("Jobs" section). The defaults suit vendor calls of seconds to minutes.</summary>
public sealed class JobOptions
{
    public const string Section = "Jobs";

    /// <summary>Jobs one worker process runs at once.</summary>
    public int Concurrency { get; set; } = 32;

    /// <summary>The most jobs one claim takes.</summary>
    public int ClaimBatchSize { get; set; } = 32;

    /// <summary>How long a claim is valid without a heartbeat; after that another worker rescues the job.</summary>
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How often a busy worker extends its leases and learns of cancellations (one query for all its jobs).</summary>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How often an idle worker looks for work while it cannot hear Redis's wake-ups (one query each time).</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How often an idle worker subscribed to Redis's wake-ups still looks for work: a safety net for a lost wake-up,
    /// and how soon an expired lease of a dead worker's job is noticed (on top of the lease) when nothing else wakes it.
    /// </summary>
    public TimeSpan IdlePollInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Attempts before a job fails with its last error.</summary>
    public int MaxAttempts { get; set; } = 5;

    /// <summary>The first retry's delay; each later one doubles, up to <see cref="RetryMaxDelay"/>, with jitter.</summary>
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromSeconds(1);

    public TimeSpan RetryMaxDelay { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>On shutdown, how long in-flight jobs may run on before they are released for another worker.</summary>
    public TimeSpan ShutdownGrace { get; set; } = TimeSpan.FromSeconds(10);
}
