using System.Net;
using System.Text.RegularExpressions;
using AiPrompts.Tests.Infrastructure;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace AiPrompts.Tests.Auth;

/// <summary>Walks every endpoint the Api maps: all but the explicitly public ones refuse an anonymous caller.</summary>
public sealed partial class EndpointAuthorizationTests(ApiFactory api) : IClassFixture<ApiFactory>
{
    /// <summary>The public surface, on purpose: info, health, docs, sign-in.</summary>
    private static readonly HashSet<string> Public =
    [
        "GET /", "GET /health", "GET /alive", "GET /api/v1/health",
        "GET /openapi/{documentName}.json", "GET /scalar/{documentName?}", "GET /scalar/scalar.js", "GET /scalar/scalar.aspnetcore.js", "GET /scalar/favicon.svg",
        "POST /api/v1/auth/token",
    ];

    private IEnumerable<(string Method, string Route, bool Anonymous)> Endpoints() =>
        api.Services.GetRequiredService<EndpointDataSource>().Endpoints
            .OfType<RouteEndpoint>()
            .SelectMany(e => (e.Metadata.GetMetadata<Microsoft.AspNetCore.Routing.HttpMethodMetadata>()?.HttpMethods ?? ["GET"])
                .Select(m => (m, "/" + e.RoutePattern.RawText!.TrimStart('/'), e.Metadata.GetMetadata<IAllowAnonymous>() is not null)));

    [Fact]
    public void Exactly_the_public_endpoints_allow_anonymous_callers()
    {
        var anonymous = Endpoints().Where(e => e.Anonymous).Select(e => $"{e.Method} {e.Route}").ToHashSet();
        Assert.True(Public.SetEquals(anonymous), $"anonymous: {string.Join(", ", anonymous.Order())}");
    }

    [Fact]
    public async Task Every_other_endpoint_answers_401_to_an_anonymous_request()
    {
        using var client = api.CreateClient();
        var checkedCount = 0;
        foreach (var (method, route, anonymous) in Endpoints())
        {
            if (anonymous)
            {
                continue;
            }
            var path = RouteParameter().Replace(route, m => m.Value.Contains(":guid", StringComparison.Ordinal) ? Guid.NewGuid().ToString() : "1");
            using var request = new HttpRequestMessage(new HttpMethod(method), path);
            if (method is "POST" or "PUT" or "PATCH")
            {
                request.Content = new StringContent("{}", System.Text.Encoding.UTF8, "application/json");
            }
            var response = await client.SendAsync(request, TestContext.Current.CancellationToken);
            Assert.True(response.StatusCode == HttpStatusCode.Unauthorized, $"{method} {path} answered {(int)response.StatusCode} without a token");
            checkedCount++;
        }
        Assert.True(checkedCount >= 10, $"only {checkedCount} endpoints were walked");
    }

    [GeneratedRegex(@"\{[^}]+\}")]
    private static partial Regex RouteParameter();
}
