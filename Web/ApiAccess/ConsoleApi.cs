using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Security.Claims;
using AiPrompts.Web.Account;
using Polly.Timeout;
using Microsoft.AspNetCore.Components.Authorization;

namespace AiPrompts.Web.ApiAccess;

/// <summary>
/// The Api as the signed-in user: their token (from the circuit's user, never the browser) and their language (so the
/// Api's errors come back in it). The one way the console reaches the Api.
/// </summary>
public sealed class ConsoleApi(HttpClient http, AuthenticationStateProvider authentication)
{
    public async Task<T> GetAsync<T>(string path, CancellationToken cancellationToken)
    {
        using var request = await RequestAsync(HttpMethod.Get, path);
        using var response = await SendAsync(request, cancellationToken);
        return (await response.Content.ReadFromJsonAsync<T>(cancellationToken))!;
    }

    /// <summary>A POST; <paramref name="preferWait"/> asks the Api to answer 202 after that long rather than wait for a job (RFC 7240).</summary>
    public async Task<T> PostAsync<T>(string path, object? body, CancellationToken cancellationToken, TimeSpan? preferWait = null)
    {
        using var request = await RequestAsync(HttpMethod.Post, path);
        request.Content = body is null ? null : JsonContent.Create(body);
        if (preferWait is { } wait)
        {
            request.Headers.Add("Prefer", $"wait={(int)wait.TotalSeconds}");
        }
        using var response = await SendAsync(request, cancellationToken);
        return (await response.Content.ReadFromJsonAsync<T>(cancellationToken))!;
    }

    /// <summary>A POST answered with server-sent events: each event (its type and data) as it arrives, until <c>[DONE]</c> or the end.</summary>
    public async IAsyncEnumerable<SseItem<string>> StreamAsync(string path, object body, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var request = await RequestAsync(HttpMethod.Post, path);
        request.Content = JsonContent.Create(body);
        using var response = await SendAsync(request, cancellationToken, HttpCompletionOption.ResponseHeadersRead);
        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        await foreach (var item in SseParser.Create(stream).EnumerateAsync(cancellationToken))
        {
            if (item.Data == "[DONE]")
            {
                yield break;
            }
            yield return item;
        }
    }

    /// <summary>A call whose answer the page does not need (PUT, PATCH, DELETE, or a POST such as a cancel).</summary>
    public async Task SendAsync(HttpMethod method, string path, object? body, CancellationToken cancellationToken)
    {
        using var request = await RequestAsync(method, path);
        request.Content = body is null ? null : JsonContent.Create(body);
        using var response = await SendAsync(request, cancellationToken);
    }

    public Task DeleteAsync(string path, CancellationToken cancellationToken) => SendAsync(HttpMethod.Delete, path, null, cancellationToken);

    /// <summary>A CSV document for a plain HTTP request (a download link), as the request's signed-in user.</summary>
    public async Task<byte[]> GetCsvAsync(ClaimsPrincipal user, string path, CancellationToken cancellationToken)
    {
        using var request = await RequestAsync(HttpMethod.Get, path, user);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/csv"));
        using var response = await SendAsync(request, cancellationToken);
        return await response.Content.ReadAsByteArrayAsync(cancellationToken);
    }

    private async Task<HttpRequestMessage> RequestAsync(HttpMethod method, string path, ClaimsPrincipal? requestUser = null)
    {
        // In a page: the circuit's user; in an endpoint: the request's.
        var user = requestUser ?? (await authentication.GetAuthenticationStateAsync()).User;
        var request = new HttpRequestMessage(method, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", user.AccessToken() ?? throw new SessionEndedException());
        request.Headers.AcceptLanguage.Add(new StringWithQualityHeaderValue(CultureInfo.CurrentUICulture.Name));
        return request;
    }

    private async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken,
        HttpCompletionOption completion = HttpCompletionOption.ResponseContentRead)
    {
        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, completion, cancellationToken);
        }
        catch (Exception e) when (e is HttpRequestException or TimeoutRejectedException
                                   || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            // Unreachable, or no answer within the resilience pipeline's time (or the client's): the same to the user.
            throw new ApiUnavailableException(e);
        }
        if (response.StatusCode == HttpStatusCode.Unauthorized)
        {
            response.Dispose();
            throw new SessionEndedException();
        }
        if (!response.IsSuccessStatusCode)
        {
            ApiProblem? problem = null;
            try
            {
                problem = await response.Content.ReadFromJsonAsync<ApiProblem>(cancellationToken);
            }
            catch (System.Text.Json.JsonException)
            {
                // Not a problem document (a proxy's page): the status says enough.
            }
            var status = response.StatusCode;
            response.Dispose();
            throw new ApiProblemException(status, problem?.Describe());
        }
        return response;
    }

    /// <summary>The Api's error (the contract's ErrorResponse), in the user's language where the Api has it.</summary>
    private sealed record ApiProblem(string? Title, string? Detail, string? UserMessage, string? RecoveryAction, Dictionary<string, string[]>? Errors)
    {
        /// <summary>What a person reads: what went wrong, the specifics (the detail, each field's message), what to do.</summary>
        public string? Describe()
        {
            string?[] parts = [UserMessage, Detail, .. Errors?.Values.SelectMany(m => m) ?? [], RecoveryAction];
            var said = parts.Where(p => !string.IsNullOrWhiteSpace(p)).Distinct(StringComparer.Ordinal).ToArray();
            return said.Length > 0 ? string.Join(" ", said) : Title;
        }
    }
}

/// <summary>The Api's token has expired or was refused: the user signs in again.</summary>
public sealed class SessionEndedException() : Exception("The session has ended.");

/// <summary>The Api cannot be reached.</summary>
public sealed class ApiUnavailableException(Exception inner) : Exception("The Api cannot be reached.", inner);

/// <summary>The Api refused the call; <see cref="Detail"/> is its message, in the user's language where the Api has it.</summary>
public sealed class ApiProblemException(HttpStatusCode status, string? detail) : Exception(detail ?? status.ToString())
{
    public HttpStatusCode Status { get; } = status;
    public string? Detail { get; } = detail;
}

/// <summary>The Api's envelopes.</summary>
public sealed record DataEnvelope<T>(T Data);
public sealed record PageEnvelope<T>(IReadOnlyList<T> Data, string? NextCursor);
