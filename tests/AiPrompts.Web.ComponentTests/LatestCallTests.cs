using System.Net;
using System.Security.Claims;
using AiPrompts.Web.ApiAccess;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.Extensions.DependencyInjection;

namespace AiPrompts.Web.ComponentTests;

/// <summary>
/// A page's calls that the user may ask again before the answer comes (a filter changed while the list loads): only the
/// latest one's answer or error reaches the page, whatever order the answers arrive in.
/// </summary>
public sealed class LatestCallTests : ConsoleComponents
{
    public LatestCallTests() => Services.AddSingleton(new ConsoleApi(new HttpClient(), new NobodySignedIn()));

    [Fact]
    public async Task An_older_answer_that_arrives_last_does_not_replace_the_newer_one()
    {
        var page = Render<Probe>().Instance;
        var older = new TaskCompletionSource<string>();
        var newer = new TaskCompletionSource<string>();
        var first = page.Latest(older.Task);
        var second = page.Latest(newer.Task);

        newer.SetResult("filtered");
        Assert.Equal("filtered", await second);
        older.SetResult("unfiltered");
        Assert.Null(await first);
    }

    [Fact]
    public async Task An_older_call_that_fails_last_says_nothing_and_the_latest_ones_failure_is_shown()
    {
        var page = Render<Probe>().Instance;
        var older = new TaskCompletionSource<string>();
        var first = page.Latest(older.Task);
        Assert.Equal("filtered", await page.Latest(Task.FromResult("filtered")));
        older.SetException(new ApiProblemException(HttpStatusCode.BadRequest, "The old filter was refused."));
        Assert.Null(await first);
        Assert.Null(page.Failure);

        Assert.Null(await page.Latest(Task.FromException<string>(new ApiProblemException(HttpStatusCode.BadRequest, "This filter was refused."))));
        Assert.Equal("This filter was refused.", page.Failure);
    }

    [Fact]
    public async Task Plain_calls_are_not_superseded_by_each_other()
    {
        var page = Render<Probe>().Instance;
        var older = new TaskCompletionSource<string>();
        var first = page.Call(older.Task);
        Assert.Equal("second", await page.Call(Task.FromResult("second")));
        older.SetResult("first");
        Assert.Equal("first", await first);
    }

    private sealed class Probe : ConsolePage
    {
        public Task<string?> Latest(Task<string> answer) => LatestAsync(_ => answer);

        public Task<string?> Call(Task<string> answer) => CallAsync(_ => answer);

        public string? Failure => Error;
    }

    private sealed class NobodySignedIn : AuthenticationStateProvider
    {
        public override Task<AuthenticationState> GetAuthenticationStateAsync() => Task.FromResult(new AuthenticationState(new ClaimsPrincipal()));
    }
}
