using AiPrompts.Core.Jobs;
using AiPrompts.Core.PromptRequests;

namespace AiPrompts.Tests.PromptRequests;

public sealed class BackoffTests
{
    private static readonly TimeSpan Base = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan Max = TimeSpan.FromSeconds(60);

    [Theory]
    [InlineData(1, 0.5, 1.0)]
    [InlineData(2, 1.0, 2.0)]
    [InlineData(3, 2.0, 4.0)]
    [InlineData(7, 30.0, 60.0)]
    [InlineData(40, 30.0, 60.0)]
    public void Delays_double_per_attempt_with_jitter_in_the_upper_half_and_a_cap(int attempt, double low, double high)
    {
        Assert.Equal(low, Backoff.Delay(attempt, Base, Max, null, 0.0).TotalSeconds, 6);
        Assert.Equal(high, Backoff.Delay(attempt, Base, Max, null, 0.999999).TotalSeconds, 3);
    }

    [Fact]
    public void Retry_After_is_a_floor_and_never_shortened()
    {
        Assert.Equal(TimeSpan.FromSeconds(30), Backoff.Delay(1, Base, Max, TimeSpan.FromSeconds(30), 0.9));
        Assert.Equal(TimeSpan.FromSeconds(300), Backoff.Delay(1, Base, Max, TimeSpan.FromSeconds(300), 0.9));
        Assert.True(Backoff.Delay(5, Base, Max, TimeSpan.FromMilliseconds(10), 0.0) >= TimeSpan.FromSeconds(8));
    }

    [Fact]
    public void Every_job_status_maps_to_one_document_status_and_back()
    {
        foreach (var status in new[] { JobStatus.Queued, JobStatus.Running, JobStatus.Succeeded, JobStatus.Failed, JobStatus.Cancelled })
        {
            Assert.Equal(status, PromptRequestStatus.ToJob(PromptRequestStatus.FromJob(status)));
        }
        Assert.Equal(["pending", "generating", "completed", "failed", "cancelled"], PromptRequestStatus.All);
    }
}
