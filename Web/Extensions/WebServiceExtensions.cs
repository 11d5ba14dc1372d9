using AiPrompts.Web.Account;
using AiPrompts.Web.ApiAccess;
using AiPrompts.Web.Localization;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.DataProtection.StackExchangeRedis;
using Microsoft.FluentUI.AspNetCore.Components;
using StackExchange.Redis;

namespace AiPrompts.Web.Extensions;

/// <summary>The console's services and middleware order (Program.cs only composes).</summary>
internal static class WebServiceExtensions
{
    /// <summary>Where every Web instance keeps the data-protection keys that seal its cookies.</summary>
    public const string DataProtectionKey = "aiprompts:web:data-protection-keys";
    public const string ApiBaseUrlSetting = "Console:ApiBaseUrl";

    /// <summary>The largest message a page may send the server (the longest text the Api takes, as UTF-8 JSON).</summary>
    private const long LargestInputMessage = 1024 * 1024;

    public static WebApplicationBuilder AddWebServices(this WebApplicationBuilder builder)
    {
        // A page's input reaches the server as one circuit message: SignalR's 32 KB default would end the circuit when
        // someone pastes a long prompt or template (the Api takes up to 256,000 characters of assistant instructions).
        builder.Services.AddRazorComponents().AddInteractiveServerComponents()
            .AddHubOptions(hub => hub.MaximumReceiveMessageSize = LargestInputMessage);
        builder.Services.AddFluentUIComponents();
        builder.AddConsoleLocalization();

        // Cookies sealed with keys every instance shares (in Redis): any instance reads any instance's cookie.
        builder.AddRedisClient("redis");
        builder.Services.AddDataProtection().SetApplicationName("AiPrompts.Web");
        builder.Services.AddOptions<KeyManagementOptions>().Configure<IConnectionMultiplexer>((options, redis) =>
            options.XmlRepository = new RedisXmlRepository(() => redis.GetDatabase(), DataProtectionKey));

        builder.Services.AddAuthentication(CookieAuthenticationDefaults.AuthenticationScheme).AddCookie(options =>
        {
            options.Cookie.Name = ConsoleSession.CookieName;
            options.Cookie.HttpOnly = true;
            options.Cookie.SameSite = SameSiteMode.Strict;
            options.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            options.LoginPath = "/signin";
            options.LogoutPath = "/signout";
            options.AccessDeniedPath = "/not-found"; // a page the role does not open is, for that user, not there
            options.SlidingExpiration = false; // the session ends with the Api's token
        });
        builder.Services.AddAuthorization();
        builder.Services.AddCascadingAuthenticationState();

        // The Api by service discovery (the AppHost's reference, or Services:api:http:0), or Console:ApiBaseUrl.
        var api = new Uri(builder.Configuration[ApiBaseUrlSetting] ?? "https+http://api");
        builder.Services.AddHttpClient<ConsoleApi>(client => client.BaseAddress = api);
        builder.Services.AddHttpClient<SignInService>(client => client.BaseAddress = api);
        return builder;
    }

    public static WebApplication UseWebPipeline(this WebApplication app)
    {
        if (!app.Environment.IsDevelopment())
        {
            app.UseExceptionHandler("/error", createScopeForErrors: true);
        }
        app.UseStatusCodePagesWithReExecute("/not-found", createScopeForStatusCodePages: true);
        app.UseRequestLocalization();
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseAntiforgery();
        return app;
    }
}
