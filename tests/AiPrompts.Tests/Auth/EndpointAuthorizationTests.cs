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
        "GET /openapi/v1.json", "GET /scalar/{documentName?}", "GET /scalar/scalar.js", "GET /scalar/scalar.aspnetcore.js", "GET /scalar/favicon.svg",
        "POST /api/v1/auth/token",
        "GET /api/v1/files/{file_id}", // a signed, expiring media URL: the signature is the credential
    ];

    private HashSet<string> Multipart => [.. api.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
        .Where(e => e.Metadata.GetMetadata<Microsoft.AspNetCore.Http.Metadata.IAcceptsMetadata>()?.ContentTypes.Contains("multipart/form-data") == true)
        .SelectMany(e => (e.Metadata.GetMetadata<Microsoft.AspNetCore.Routing.HttpMethodMetadata>()?.HttpMethods ?? ["GET"]).Select(m => $"{m} /{e.RoutePattern.RawText!.TrimStart('/')}"))];

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

    /// <summary>
    /// There is no fallback policy (so routing's 405 and 415 reach a caller without a token): each endpoint
    /// must decide for itself, and each one that API keys may reach names the scope they need.
    /// </summary>
    [Fact]
    public void Every_endpoint_requires_authorization_or_says_it_is_public_and_names_its_API_key_scope()
    {
        var endpoints = api.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>().ToList();
        var undecided = endpoints
            .Where(e => e.Metadata.GetMetadata<IAllowAnonymous>() is null && e.Metadata.GetOrderedMetadata<IAuthorizeData>().Count == 0)
            .Select(e => e.RoutePattern.RawText).ToList();
        Assert.True(undecided.Count == 0, $"no authorization decision: {string.Join(", ", undecided)}");

        var withoutScope = endpoints
            .Where(e => e.Metadata.GetMetadata<IAllowAnonymous>() is null && e.Metadata.GetMetadata<AiPrompts.Api.Auth.RequiredScope>() is null)
            .Select(e => e.RoutePattern.RawText).ToList();
        Assert.True(withoutScope.Count == 0, $"no API-key scope declared: {string.Join(", ", withoutScope)}");
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
                // The body each endpoint takes (routing answers 415 to another before authorization is asked).
                request.Content = Multipart.Contains($"{method} {route}")
                    ? new MultipartFormDataContent { { new ByteArrayContent([1, 2, 3]), "file", "x.png" } }
                    : new StringContent("{}", System.Text.Encoding.UTF8, "application/json");
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
