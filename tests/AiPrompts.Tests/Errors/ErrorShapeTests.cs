using System.Net;
using System.Net.Http.Json;
using System.Text;
using AiPrompts.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace AiPrompts.Tests.Errors;

/// <summary>An Api with one extra route that throws, to see what an unhandled exception looks like from outside.</summary>
public sealed class ThrowingApiFactory : ApiFactory
{
    public const string Secret = "sk-live-SECRET-in-an-exception-message";

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.ConfigureServices(services => services.AddSingleton<IStartupFilter>(new ThrowFilter()));
    }

    private sealed class ThrowFilter : IStartupFilter
    {
        // Added after the app's own pipeline, so the exception passes through its error handling.
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            next(app);
            app.Run(context =>
            {
                if (context.Request.Path == "/test/throw")
                {
                    throw new InvalidOperationException($"Vendor said no for key {Secret}");
                }
                context.Response.StatusCode = StatusCodes.Status404NotFound; // what the pipeline's end does anyway
                return Task.CompletedTask;
            });
        };
    }
}

public sealed class ErrorShapeTests(ThrowingApiFactory api) : IClassFixture<ThrowingApiFactory>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task An_unknown_route_is_a_404_problem_with_every_field()
    {
        using var client = api.CreateClient(await api.AdminTokenAsync());

        var problem = await Problem.ReadAsync(await client.GetAsync("/api/v1/nothing-here", Ct), HttpStatusCode.NotFound);

        Assert.Equal("not_found", problem.Code);
        Assert.Equal("The resource was not found.", problem.Message);
        Assert.Matches("^[0-9a-f]{32}$", problem.TraceId);
    }

    [Fact]
    public async Task Accept_Language_th_gives_the_Thai_texts_and_English_is_the_fallback()
    {
        using var thai = api.CreateClient(await api.AdminTokenAsync(), "th-TH,th;q=0.9,en;q=0.5");
        using var french = api.CreateClient(await api.AdminTokenAsync(), "fr-FR");

        var thaiResponse = await thai.GetAsync("/api/v1/nothing-here", Ct);
        var th = await Problem.ReadAsync(thaiResponse, HttpStatusCode.NotFound);
        var fr = await Problem.ReadAsync(await french.GetAsync("/api/v1/nothing-here", Ct), HttpStatusCode.NotFound);

        Assert.Equal("ไม่พบข้อมูลที่ร้องขอ", th.Message);
        Assert.Equal("ไม่พบสิ่งที่คุณต้องการ หรือคุณไม่มีสิทธิ์เข้าถึง", th.UserMessage);
        Assert.Equal("ตรวจสอบที่อยู่หรือรหัสอ้างอิงแล้วลองอีกครั้ง", th.RecoveryAction);
        Assert.Equal("th", thaiResponse.Content.Headers.ContentLanguage.Single());
        Assert.Equal("not_found", th.Code);
        Assert.Equal("What you asked for does not exist or is not available to you.", fr.UserMessage);
    }

    [Fact]
    public async Task The_401_for_a_missing_token_is_a_Thai_problem_when_asked()
    {
        using var client = api.CreateClient(null, "th");

        var problem = await Problem.ReadAsync(await client.GetAsync("/api/v1/me", Ct), HttpStatusCode.Unauthorized);

        Assert.Equal("unauthorized", problem.Code);
        Assert.Equal("ไม่พบการเข้าสู่ระบบ หรือเซสชันหมดอายุแล้ว", problem.UserMessage);
    }

    [Fact]
    public async Task A_wrong_method_is_a_405_problem()
    {
        using var client = api.CreateClient(await api.AdminTokenAsync());

        var response = await client.DeleteAsync("/api/v1/me", Ct);

        var problem = await Problem.ReadAsync(response, HttpStatusCode.MethodNotAllowed);
        Assert.Equal("method_not_allowed", problem.Code);
    }

    [Fact]
    public async Task A_body_over_the_limit_is_a_413_problem()
    {
        using var client = api.CreateClient();
        var huge = new string('x', 2 * 1024 * 1024);
        using var content = new StringContent($$"""{"email":"a@b.c","password":"{{huge}}"}""", Encoding.UTF8, "application/json");

        var problem = await Problem.ReadAsync(await client.PostAsync("/api/v1/auth/token", content, Ct), HttpStatusCode.RequestEntityTooLarge);

        Assert.Equal("payload_too_large", problem.Code);
    }

    [Fact]
    public async Task Unreadable_JSON_is_a_400_problem()
    {
        using var client = api.CreateClient();
        using var content = new StringContent("{\"email\": ", Encoding.UTF8, "application/json");

        var problem = await Problem.ReadAsync(await client.PostAsync("/api/v1/auth/token", content, Ct), HttpStatusCode.BadRequest);

        Assert.Equal("validation_failed", problem.Code);
        Assert.True(problem.Root.GetProperty("errors").EnumerateObject().Any(), problem.Root.ToString());
    }

    [Fact]
    public async Task An_unhandled_exception_is_a_500_problem_without_stack_trace_or_message()
    {
        using var client = api.CreateClient(await api.AdminTokenAsync(), "th");

        var response = await client.GetAsync("/test/throw", Ct);
        var text = await response.Content.ReadAsStringAsync(Ct);
        var problem = await Problem.ReadAsync(response, HttpStatusCode.InternalServerError);

        Assert.Equal("internal_error", problem.Code);
        Assert.Equal("เกิดข้อผิดพลาดในระบบ", problem.UserMessage);
        Assert.DoesNotContain(ThrowingApiFactory.Secret, text, StringComparison.Ordinal);
        Assert.DoesNotContain("InvalidOperationException", text, StringComparison.Ordinal);
        Assert.DoesNotContain(" at ", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_validation_error_lists_the_fields_in_the_same_shape()
    {
        using var client = api.CreateClient(await api.AdminTokenAsync());

        var response = await client.PostAsJsonAsync("/api/v1/users", new { email = "not-an-email", password = "short", role = "emperor" }, Ct);

        var problem = await Problem.ReadAsync(response, HttpStatusCode.BadRequest);
        Assert.Equal("validation_failed", problem.Code);
        var errors = problem.Root.GetProperty("errors");
        foreach (var field in new[] { "email", "password", "displayName", "role" })
        {
            Assert.True(errors.TryGetProperty(field, out _), $"no error for {field}");
        }
    }
}
