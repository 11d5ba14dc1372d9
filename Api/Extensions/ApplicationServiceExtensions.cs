using System.Text.Json.Serialization;
using AiPrompts.Api.Assistants;
using AiPrompts.Api.Auth;
using AiPrompts.Api.Docs;
using AiPrompts.Api.Errors;
using AiPrompts.Api.Input;
using AiPrompts.Api.PromptRequests;
using AiPrompts.Api.Users;
using AiPrompts.Core;
using AiPrompts.Core.Caching;
using AiPrompts.Core.Templates;
using AiPrompts.Core.Users;
using Microsoft.AspNetCore.Identity;

namespace AiPrompts.Api.Extensions;

internal static class ApplicationServiceExtensions
{
    public const string CorsPolicy = "configured-origins";

    public static IHostApplicationBuilder AddApplicationServices(this IHostApplicationBuilder builder)
    {
        builder.Configuration.AddDocumentAliases();
        builder.AddCoreServices();

        var services = builder.Services;
        services.ConfigureHttpJsonOptions(o => o.SerializerOptions.Converters.Add(new JsonStringEnumConverter(System.Text.Json.JsonNamingPolicy.SnakeCaseLower)));
        // The Assistants surface writes its errors as the OpenAI SDKs read them; the first writer that can, writes.
        services.Insert(0, ServiceDescriptor.Singleton<IProblemDetailsWriter, OpenAIErrorWriter>());
        services.AddApiProblemDetails();
        builder.AddApiAuthentication();
        services.AddApiDocs();
        services.AddSingleton<IPasswordHasher<User>, PasswordHasher<User>>();
        services.AddOptions<BootstrapOptions>().BindConfiguration(BootstrapOptions.Section);
        services.AddHostedService<DatabaseStartup>();

        services.AddScoped<PromptRequestReader>();
        services.AddScoped<PromptRequestFactory>();
        services.AddScoped<RunStore>();
        services.AddOptions<AssistantOptions>().BindConfiguration(AssistantOptions.Section)
            .Validate(o => o.ChatWait >= TimeSpan.Zero && o.MaxMessageLength >= 1 && o.MaxAttempts >= 1 && !string.IsNullOrWhiteSpace(o.DefaultInstructions),
                "Assistants:ChatWait is zero or more, MaxMessageLength and MaxAttempts at least 1, DefaultInstructions not empty.")
            .Validate(o => o.DefaultAssistantId is null || Core.Assistants.OpenAIIds.TryParse(Core.Assistants.OpenAIIds.Assistant, o.DefaultAssistantId, out _),
                "Assistants:DefaultAssistantId (ASSISTANT_ID) is an assistant id, asst_….")
            .ValidateOnStart();
        services.AddOptions<TemplateOptions>().BindConfiguration(TemplateOptions.Section)
            .Validate(o => o.MaxTemplateLength >= 1 && o.LocalCacheMaxAge > TimeSpan.Zero && o.RedisTtl > TimeSpan.Zero && o.SandboxWait >= TimeSpan.Zero,
                "Templates:MaxTemplateLength is at least 1, LocalCacheMaxAge and RedisTtl positive, SandboxWait zero or more.")
            .ValidateOnStart();
        services.AddSingleton<ActiveTemplateCache>();
        services.AddSingleton<CacheInvalidation>();
        services.AddHostedService(sp => sp.GetRequiredService<CacheInvalidation>());
        services.AddSingleton<UserCache>();
        services.AddSingleton<MediaLinks>();
        services.AddOptions<Studio.StudioOptions>().BindConfiguration(Studio.StudioOptions.Section)
            .Validate(o => o.Wait >= TimeSpan.Zero && o.MaxAttempts >= 1 && o.MaxPromptLength >= 1, "Studio:Wait is zero or more, MaxAttempts and MaxPromptLength at least 1.")
            .ValidateOnStart();
        services.AddHttpContextAccessor();
        services.AddOptions<Auth.RequestRateLimitOptions>().BindConfiguration(Auth.RequestRateLimitOptions.Section)
            .Validate(o => o.UserPermitLimit >= 0 && o.ApiKeyPermitLimit >= 0 && o.UserTokenLimit >= 0 && o.ApiKeyTokenLimit >= 0
                && o.Window >= TimeSpan.FromSeconds(1) && o.FallbackShare is > 0 and <= 1,
                "RateLimits: limits are 0 (none) or more, the window at least a second, the fallback share in (0, 1].")
            .ValidateOnStart();
        services.AddSingleton<Auth.RequestRateLimiter>();
        services.AddScoped<Jobs.JobSubmission>();
        services.AddScoped<Gateway.GatewayAdmission>();
        services.AddScoped<Gateway.ResponsePrompts>();
        services.AddSingleton<Gateway.ConversationStore>();
        services.AddScoped<Gateway.BackgroundResponses>();
        services.AddSingleton<Gateway.GatewayMetrics>();
        services.AddSingleton<Core.Gateway.GatewayUsageRecorder>();
        services.AddHostedService(sp => sp.GetRequiredService<Core.Gateway.GatewayUsageRecorder>());
        services.AddScoped<Studio.MessageViews>();

        services.AddOptions<RequestLimitsOptions>().BindConfiguration(RequestLimitsOptions.Section)
            .Validate(o => o.MaxRequestBodyBytes >= 1024 && o.MaxUrlLength >= 256 && o.MaxHeaderBytes >= 1024,
                "RequestLimits:MaxRequestBodyBytes and MaxHeaderBytes are at least 1024, MaxUrlLength at least 256.")
            .ValidateOnStart();
        services.AddServerLimits(builder.Configuration);

        var origins = builder.Configuration.GetSection("Cors:AllowedOrigins").Get<string[]>() ?? [];
        services.AddCors(cors => cors.AddPolicy(CorsPolicy, policy =>
        {
            policy.WithOrigins(origins).AllowAnyHeader().AllowAnyMethod()
                .WithExposedHeaders("Retry-After", "Location", "Content-Language", "openai-poll-after-ms", "RateLimit", "RateLimit-Policy", Jobs.JobSubmission.WarningHeader, Gateway.GatewayCallScope.OverheadHeader)
                .SetPreflightMaxAge(TimeSpan.FromMinutes(10));
        }));
        return builder;
    }

    /// <summary>The middleware order: errors first, then limits, CORS, authentication, authorization.</summary>
    public static WebApplication UseApiPipeline(this WebApplication app)
    {
        Gateway.GatewayTiming.UseGatewayTiming(app, app.Services.GetRequiredService<TimeProvider>());
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseRequestBodyLimit();
        app.UseInputRules();
        app.UseCors(CorsPolicy);
        app.UseAuthentication();
        app.UseAuthorization();
        return app;
    }
}
