namespace Microsoft.Extensions.Hosting;

/// <summary>
/// <c>&lt;service&gt; health</c>: asks the running service in this container for <c>/health</c> on its own port and exits
/// 0 when it answers 200, 1 otherwise. The images' health check, with no shell or curl in the image.
/// </summary>
public static class HealthProbe
{
    public const string Command = "health";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);

    public static async Task<int> RunAsync(CancellationToken cancellationToken = default)
    {
        var ports = Environment.GetEnvironmentVariable("ASPNETCORE_HTTP_PORTS") ?? "8080";
        var port = ports.Split([',', ';'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault() ?? "8080";
        using var client = new HttpClient { Timeout = Timeout };
        try
        {
            using var response = await client.GetAsync(new Uri($"http://127.0.0.1:{port}{ServiceDefaultsExtensions.HealthEndpointPath}"), cancellationToken);
            await Console.Out.WriteLineAsync($"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync(cancellationToken)}");
            return response.IsSuccessStatusCode ? 0 : 1;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            await Console.Out.WriteLineAsync($"unreachable: {e.Message}");
            return 1;
        }
    }
}
