using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

namespace AiPrompts.Web.Account;

/// <summary>Exchanges an email and password for the Api's token, then asks the Api who that is.</summary>
internal sealed class SignInService(HttpClient http)
{
    public async Task<SignInResult> SignInAsync(string email, string password, CancellationToken cancellationToken)
    {
        HttpResponseMessage token;
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/auth/token") { Content = JsonContent.Create(new { email, password }) };
            request.Headers.AcceptLanguage.Add(new StringWithQualityHeaderValue(CultureInfo.CurrentUICulture.Name));
            token = await http.SendAsync(request, cancellationToken);
        }
        catch (HttpRequestException)
        {
            return SignInResult.Unavailable;
        }
        using (token)
        {
            if (token.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.BadRequest)
            {
                return SignInResult.Invalid;
            }
            if (token.StatusCode == HttpStatusCode.TooManyRequests)
            {
                return SignInResult.Throttled;
            }
            if (!token.IsSuccessStatusCode)
            {
                return SignInResult.Unavailable;
            }
            var issued = (await token.Content.ReadFromJsonAsync<Envelope<IssuedToken>>(cancellationToken))!.Data;

            using var me = new HttpRequestMessage(HttpMethod.Get, "/api/v1/me");
            me.Headers.Authorization = new AuthenticationHeaderValue("Bearer", issued.AccessToken);
            using var answer = await http.SendAsync(me, cancellationToken);
            if (!answer.IsSuccessStatusCode)
            {
                return SignInResult.Unavailable;
            }
            var user = (await answer.Content.ReadFromJsonAsync<Envelope<Me>>(cancellationToken))!.Data.User;
            return new SignInResult(SignInOutcome.SignedIn, user, issued.AccessToken, issued.ExpiresAt);
        }
    }

    private sealed record Envelope<T>(T Data);
    private sealed record IssuedToken(string AccessToken, DateTimeOffset ExpiresAt);
    private sealed record Me(SignedInUser User);
}

internal enum SignInOutcome { SignedIn, Invalid, Throttled, Unavailable }

internal sealed record SignInResult(SignInOutcome Outcome, SignedInUser? User = null, string? AccessToken = null, DateTimeOffset? ExpiresAt = null)
{
    public static SignInResult Invalid { get; } = new(SignInOutcome.Invalid);
    public static SignInResult Throttled { get; } = new(SignInOutcome.Throttled);
    public static SignInResult Unavailable { get; } = new(SignInOutcome.Unavailable);
}
