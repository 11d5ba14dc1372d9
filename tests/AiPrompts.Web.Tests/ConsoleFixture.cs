using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Microsoft.Playwright;

namespace AiPrompts.Web.Tests;

/// <summary>
/// The real system under its AppHost (executables mode: this machine's PostgreSQL and redis-server, the Api, the
/// Worker and the console), and Debian's chromium driven by Playwright. One per test class.
/// </summary>
public sealed class ConsoleFixture : IAsyncLifetime
{
    public const string AdminEmail = "admin@aiprompts.local";
    public const string AdminPassword = "console test password";
    public const string ModelLatency = "00:00:05";

    /// <summary>How long a page step may take: the whole suite runs beside these tests on two cores.</summary>
    public const float Patience = 60_000;
    private readonly string _data = Directory.CreateTempSubdirectory("aiprompts-console-").FullName;
    private DistributedApplication? _app;
    private IPlaywright? _playwright;

    public IBrowser Browser { get; private set; } = null!;
    public Uri Console { get; private set; } = null!;
    public HttpClient Api { get; private set; } = null!;

    /// <summary>An OpenAI-compatible vendor on loopback, for a custom provider (the Api may call it: Ai:AllowPrivateBaseUrls).</summary>
    public FakeVendor Vendor { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(4));
        Vendor = await FakeVendor.StartAsync();
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.AppHost>(
        [
            "AppHost:Infrastructure=executables",
            $"AppHost:DataDirectory={_data}",
            $"Parameters:master-key={Convert.ToBase64String(RandomNumberGenerator.GetBytes(32))}",
            $"Parameters:jwt-signing-key={Convert.ToHexString(RandomNumberGenerator.GetBytes(32))}",
            $"Parameters:bootstrap-admin-password={AdminPassword}",
            $"Parameters:postgres-password={Convert.ToHexString(RandomNumberGenerator.GetBytes(12))}",
            $"Parameters:redis-password={Convert.ToHexString(RandomNumberGenerator.GetBytes(12))}",
        ], timeout.Token);
        // Each model call takes a while, so a request can be watched running and cancelled.
        builder.CreateResourceBuilder<ProjectResource>("worker").WithEnvironment("Vendors__LocalLatency", ModelLatency)
            .WithEnvironment("Ai__AllowPrivateBaseUrls", "true");
        builder.CreateResourceBuilder<ProjectResource>("api").WithEnvironment("Ai__AllowPrivateBaseUrls", "true");
        _app = await builder.BuildAsync(timeout.Token);
        await _app.StartAsync(timeout.Token);
        foreach (var resource in new[] { "api", "worker", "web" })
        {
            await _app.ResourceNotifications.WaitForResourceHealthyAsync(resource, timeout.Token);
        }
        Console = _app.GetEndpoint("web", "http");
        Api = _app.CreateHttpClient("api");
        var signIn = await Api.PostAsJsonAsync("/api/v1/auth/token", new { email = AdminEmail, password = AdminPassword }, timeout.Token);
        signIn.EnsureSuccessStatusCode();
        using var token = JsonDocument.Parse(await signIn.Content.ReadAsStringAsync(timeout.Token));
        Api.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token.RootElement.GetProperty("data").GetProperty("accessToken").GetString());

        // Expectations wait as long as page steps do (their 5 s default is short for two busy cores).
        Assertions.SetDefaultExpectTimeout(Patience);
        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new()
        {
            ExecutablePath = "/usr/bin/chromium",
            Args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        });
    }

    /// <summary>
    /// A new browser page (its own context), signed in as the bootstrap super admin, in the given language and viewport.
    /// The sign-in form is used once and its session cookie reused: the Api limits sign-ins per account and address.
    /// </summary>
    public Task<IPage> SignedInPageAsync(string culture = "en-US", int width = 1280, int height = 800) =>
        SignedInPageAsync(AdminEmail, AdminPassword, culture, width, height);

    /// <summary>A new browser page signed in as this user (one sign-in per user, its session reused).</summary>
    public async Task<IPage> SignedInPageAsync(string email, string password, string culture = "en-US", int width = 1280, int height = 800)
    {
        var session = await SessionAsync(email, password);
        var context = await Browser.NewContextAsync(new() { ViewportSize = new() { Width = width, Height = height }, BaseURL = Console.ToString(), StorageState = session });
        context.SetDefaultTimeout(Patience);
        var page = await context.NewPageAsync();
        await page.GotoAsync($"/culture?culture={culture}&returnUrl=%2F");
        await page.WaitForURLAsync(new Uri(Console, "/").ToString());
        return page;
    }

    private readonly SemaphoreSlim _signingIn = new(1, 1);
    private readonly Dictionary<string, string> _sessions = new(StringComparer.OrdinalIgnoreCase);

    private async Task<string> SessionAsync(string email, string password)
    {
        await _signingIn.WaitAsync();
        try
        {
            if (!_sessions.TryGetValue(email, out var session))
            {
                await using var context = await Browser.NewContextAsync(new() { BaseURL = Console.ToString() });
                context.SetDefaultTimeout(Patience);
                var page = await context.NewPageAsync();
                await page.GotoAsync("/signin");
                await page.FillAsync("#email", email);
                await page.FillAsync("#password", password);
                var form = page.Url;
                await page.Locator("fluent-button[type=submit]").ClickFluentAsync();
                // Signed in (the overview) or refused (the form again, saying why): never a silent wait.
                await page.WaitForURLAsync(url => url != form);
                Assert.True(!page.Url.Contains("/signin", StringComparison.Ordinal), $"{email} could not sign in: {page.Url}");
                _sessions[email] = session = await context.StorageStateAsync();
            }
            return session;
        }
        finally
        {
            _signingIn.Release();
        }
    }

    /// <summary>A new user made through the Api (by the super admin) in this role, with a password to sign in with.</summary>
    public async Task<ConsoleUser> NewUserAsync(string role, string displayName, CancellationToken cancellationToken)
    {
        var email = $"{role.Replace('_', '-')}-{Guid.NewGuid():N}@example.com";
        var password = $"password of {displayName}";
        var created = await Api.PostAsJsonAsync("/api/v1/users", new { email, password, displayName, role }, cancellationToken);
        created.EnsureSuccessStatusCode();
        using var body = JsonDocument.Parse(await created.Content.ReadAsStringAsync(cancellationToken));
        return new ConsoleUser(body.RootElement.GetProperty("data").GetProperty("id").GetGuid(), email, password);
    }

    /// <summary>The Api as this user (their own token), to check what the console did in their name.</summary>
    public async Task<HttpClient> ApiAsAsync(ConsoleUser user, CancellationToken cancellationToken)
    {
        var api = new HttpClient { BaseAddress = Api.BaseAddress };
        var signIn = await api.PostAsJsonAsync("/api/v1/auth/token", new { email = user.Email, password = user.Password }, cancellationToken);
        signIn.EnsureSuccessStatusCode();
        using var token = JsonDocument.Parse(await signIn.Content.ReadAsStringAsync(cancellationToken));
        api.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token.RootElement.GetProperty("data").GetProperty("accessToken").GetString());
        return api;
    }

    /// <summary>A new browser page signed in as this user.</summary>
    public Task<IPage> SignedInPageAsync(ConsoleUser user, string culture = "en-US") => SignedInPageAsync(user.Email, user.Password, culture);

    /// <summary>Submits a prompt request through the Api (as the super admin) and answers its id.</summary>
    public async Task<Guid> SubmitAsync(string prompt, string purpose, bool wait, CancellationToken cancellationToken)
    {
        using var submit = new HttpRequestMessage(HttpMethod.Post, "/api/v1/prompt-requests")
        {
            Content = JsonContent.Create(new { promptType = "text", promptText = prompt, purpose = new { code = purpose, text = "console test" } }),
        };
        if (wait)
        {
            submit.Headers.Add("Prefer", "wait=30");
        }
        var answer = await Api.SendAsync(submit, cancellationToken);
        answer.EnsureSuccessStatusCode();
        using var body = JsonDocument.Parse(await answer.Content.ReadAsStringAsync(cancellationToken));
        return body.RootElement.GetProperty("data").GetProperty("id").GetGuid();
    }

    public async ValueTask DisposeAsync()
    {
        _signingIn.Dispose();
        if (Browser is not null)
        {
            await Browser.DisposeAsync();
        }
        _playwright?.Dispose();
        Api?.Dispose();
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
        if (Vendor is not null)
        {
            await Vendor.DisposeAsync();
        }
        AiPrompts.AppHost.Tests.AppHostDataFolder.Remove(_data);
    }
}

/// <summary>A user a test made, and how they sign in.</summary>
public sealed record ConsoleUser(Guid Id, string Email, string Password);

/// <summary>Steps on page elements that need more than a plain click.</summary>
public static class PageElements
{
    /// <summary>
    /// Clicks a Fluent UI button. It is a web component: a click that lands before the component is defined submits
    /// nothing, so the click waits for the definition first.
    /// </summary>
    public static async Task ClickFluentAsync(this ILocator button)
    {
        await button.Page.WaitForFunctionAsync("() => customElements.get('fluent-button') !== undefined");
        await button.ClickAsync();
    }

    /// <summary>Opens a <c>details</c> element that may already be open (a click on its summary would close it).</summary>
    public static async Task OpenAsync(this ILocator details)
    {
        if (await details.GetAttributeAsync("open") is null)
        {
            await details.Locator("summary").ClickAsync();
        }
        await Assertions.Expect(details).ToHaveAttributeAsync("open", "");
    }
}

/// <summary>The console's test classes share one running system, one after another.</summary>
[CollectionDefinition(Name)]
public sealed class SharedConsole : ICollectionFixture<ConsoleFixture>
{
    public const string Name = "console";
}
