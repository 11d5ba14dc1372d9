using System.Net;
using System.Net.Http.Json;
using System.Security.Claims;
using System.Text;
using System.Text.Json;
using AiPrompts.Tests.Infrastructure;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace AiPrompts.Tests.Auth;

public sealed class TokenTests(ApiFactory api) : IClassFixture<ApiFactory>
{
    [Fact]
    public async Task A_valid_password_yields_a_token_that_identifies_the_user()
    {
        var token = await api.AdminTokenAsync();
        using var client = api.CreateClient(token);

        var response = await client.GetAsync("/api/v1/me", TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        var data = body.RootElement.GetProperty("data");
        Assert.Equal(ApiFactory.AdminEmail, data.GetProperty("user").GetProperty("email").GetString());
        Assert.Equal("super_admin", data.GetProperty("user").GetProperty("role").GetString());
        Assert.Contains("system.manage_all", data.GetProperty("permissions").EnumerateArray().Select(p => p.GetString()));
        Assert.Equal("HS256", new JsonWebToken(token).Alg);
    }

    [Fact]
    public async Task A_wrong_password_is_refused_with_the_error_shape()
    {
        using var client = api.CreateClient();
        var response = await client.PostAsJsonAsync("/api/v1/auth/token", new { email = ApiFactory.AdminEmail, password = "wrong password!" }, TestContext.Current.CancellationToken);

        var problem = await Problem.ReadAsync(response, HttpStatusCode.Unauthorized);
        Assert.Equal("invalid_credentials", problem.Code);
    }

    [Fact]
    public async Task A_missing_email_is_a_validation_error_listing_the_field()
    {
        using var client = api.CreateClient();
        var response = await client.PostAsJsonAsync("/api/v1/auth/token", new { password = "x" }, TestContext.Current.CancellationToken);

        var problem = await Problem.ReadAsync(response, HttpStatusCode.BadRequest);
        Assert.Equal("validation_failed", problem.Code);
        Assert.True(problem.Root.GetProperty("errors").TryGetProperty("email", out _));
    }

    public static TheoryData<string> BadTokens => new()
    {
        "no-token",
        "garbage",
        "wrong-signature",
        "alg-none",
        "wrong-issuer",
        "wrong-audience",
        "expired",
        "unknown-user",
    };

    [Theory]
    [MemberData(nameof(BadTokens))]
    public async Task Requests_with_a_bad_token_are_refused_with_401(string kind)
    {
        // Every forgery below is right in all but the one respect it is named for (see the control test).
        var user = await api.CreateUserAsync("user");
        var stamp = await api.Database.ScalarAsync<Guid>("SELECT security_stamp FROM users WHERE id = $1", user.Id);
        var bearer = kind switch
        {
            "no-token" => null,
            "garbage" => "not.a.jwt",
            "wrong-signature" => Forge(user, stamp: stamp, key: "another-signing-key-0123456789abcdef-0123456789abcdef"),
            "alg-none" => Unsigned(user, stamp),
            "wrong-issuer" => Forge(user, stamp: stamp, issuer: "someone-else"),
            "wrong-audience" => Forge(user, stamp: stamp, audience: "another-api"),
            "expired" => Forge(user, stamp: stamp, expires: DateTime.UtcNow.AddMinutes(-2)),
            "unknown-user" => Forge(user with { Id = Guid.NewGuid() }, stamp: stamp),
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };
        using var client = api.CreateClient(bearer);

        var response = await client.GetAsync("/api/v1/me", TestContext.Current.CancellationToken);

        var problem = await Problem.ReadAsync(response, HttpStatusCode.Unauthorized);
        Assert.Equal("unauthorized", problem.Code);
    }

    [Fact]
    public async Task Control_a_token_forged_with_every_field_right_is_accepted()
    {
        // Control for the theory above: the same forging code, with nothing wrong, is accepted.
        var user = await api.CreateUserAsync("user");
        var stamp = await api.Database.ScalarAsync<Guid>("SELECT security_stamp FROM users WHERE id = $1", user.Id);
        using var client = api.CreateClient(Forge(user, stamp: stamp));

        var response = await client.GetAsync("/api/v1/me", TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task A_token_within_the_30_second_clock_skew_still_works_and_one_past_it_does_not()
    {
        var user = await api.CreateUserAsync("user");
        var stamp = await api.Database.ScalarAsync<Guid>("SELECT security_stamp FROM users WHERE id = $1", user.Id);

        using var justExpired = api.CreateClient(Forge(user, stamp: stamp, expires: DateTime.UtcNow.AddSeconds(-10)));
        using var longExpired = api.CreateClient(Forge(user, stamp: stamp, expires: DateTime.UtcNow.AddSeconds(-45)));

        Assert.Equal(HttpStatusCode.OK, (await justExpired.GetAsync("/api/v1/me", TestContext.Current.CancellationToken)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await longExpired.GetAsync("/api/v1/me", TestContext.Current.CancellationToken)).StatusCode);
    }

    [Fact]
    public async Task Disabling_a_user_ends_their_existing_tokens_and_they_cannot_sign_in()
    {
        var user = await api.CreateUserAsync("admin");
        using var asUser = api.CreateClient(user.Token);
        Assert.Equal(HttpStatusCode.OK, (await asUser.GetAsync("/api/v1/me", TestContext.Current.CancellationToken)).StatusCode);

        using var admin = api.CreateClient(await api.AdminTokenAsync());
        (await admin.PostAsync($"/api/v1/users/{user.Id}/disable", null, TestContext.Current.CancellationToken)).EnsureSuccessStatusCode();

        Assert.Equal(HttpStatusCode.Unauthorized, (await asUser.GetAsync("/api/v1/me", TestContext.Current.CancellationToken)).StatusCode);
        using var anonymous = api.CreateClient();
        var login = await anonymous.PostAsJsonAsync("/api/v1/auth/token", new { email = user.Email, password = user.Password }, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Unauthorized, login.StatusCode);
    }

    [Fact]
    public async Task Changing_a_role_ends_the_old_tokens_so_a_demoted_admin_loses_power_at_once()
    {
        var user = await api.CreateUserAsync("super_admin");
        using var asUser = api.CreateClient(user.Token);
        Assert.Equal(HttpStatusCode.OK, (await asUser.GetAsync("/api/v1/users", TestContext.Current.CancellationToken)).StatusCode);

        using var admin = api.CreateClient(await api.AdminTokenAsync());
        (await admin.PutAsJsonAsync($"/api/v1/users/{user.Id}/role", new { role = "user" }, TestContext.Current.CancellationToken)).EnsureSuccessStatusCode();

        Assert.Equal(HttpStatusCode.Unauthorized, (await asUser.GetAsync("/api/v1/users", TestContext.Current.CancellationToken)).StatusCode);
        using var again = api.CreateClient(await api.LoginAsync(user.Email, user.Password));
        await Problem.ReadAsync(await again.GetAsync("/api/v1/users", TestContext.Current.CancellationToken), HttpStatusCode.Forbidden);
    }

    [Theory]
    [InlineData("admin")]
    [InlineData("user")]
    public async Task Without_system_manage_all_the_user_endpoints_answer_403(string role)
    {
        var user = await api.CreateUserAsync(role);
        using var client = api.CreateClient(user.Token);

        var problem = await Problem.ReadAsync(await client.GetAsync("/api/v1/users", TestContext.Current.CancellationToken), HttpStatusCode.Forbidden);

        Assert.Equal("forbidden", problem.Code);
    }

    private static string Forge(TestUser user, string key = ApiFactory.SigningKey, string issuer = "aiprompts", string audience = "aiprompts-api",
        DateTime? expires = null, Guid? stamp = null)
    {
        var expiry = expires ?? DateTime.UtcNow.AddMinutes(10);
        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = issuer,
            Audience = audience,
            IssuedAt = expiry.AddMinutes(-20),
            NotBefore = expiry.AddMinutes(-20),
            Expires = expiry,
            SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(Encoding.UTF8.GetBytes(key)), SecurityAlgorithms.HmacSha256),
            Subject = new ClaimsIdentity([new Claim("sub", user.Id.ToString()), new Claim("sstamp", (stamp ?? Guid.Empty).ToString()), new Claim("role", "super_admin")]),
        });
    }

    /// <summary>A token whose header says alg "none", with an empty signature.</summary>
    private static string Unsigned(TestUser user, Guid stamp)
    {
        static string Encode(string json) => Base64UrlEncoder.Encode(json);
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var header = Encode("""{"alg":"none","typ":"JWT"}""");
        var payload = Encode($$"""{"sub":"{{user.Id}}","iss":"aiprompts","aud":"aiprompts-api","iat":{{now}},"nbf":{{now}},"exp":{{now + 600}},"sstamp":"{{stamp}}","role":"super_admin"}""");
        return $"{header}.{payload}.";
    }
}
