using System.Globalization;
using Microsoft.AspNetCore.Localization;

namespace AiPrompts.Web.Localization;

/// <summary>The resources of the console's texts (Text.resx and one file per language).</summary>
public sealed class Text;

/// <summary>
/// The console's languages: English and the languages of the people who asked for this system. The user's choice is
/// remembered in a cookie; numbers and dates follow the culture, Persian and Arabic lay out right to left.
/// </summary>
internal static class ConsoleCultures
{
    public static IReadOnlyList<CultureInfo> All { get; } =
        [.. new[] { "en-US", "fa-IR", "ar-EG", "th-TH", "vi-VN", "ko-KR" }.Select(CultureInfo.GetCultureInfo)];

    public static bool IsRightToLeft => CultureInfo.CurrentUICulture.TextInfo.IsRightToLeft;

    /// <summary>The language's own name, as a chooser shows it.</summary>
    public static string NativeName(CultureInfo culture) => culture.Parent.NativeName is { Length: > 0 } name ? name : culture.NativeName;

    public static WebApplicationBuilder AddConsoleLocalization(this WebApplicationBuilder builder)
    {
        builder.Services.AddLocalization();
        builder.Services.Configure<RequestLocalizationOptions>(options =>
        {
            options.SetDefaultCulture(All[0].Name);
            options.SupportedCultures = [.. All];
            options.SupportedUICultures = [.. All];
            // The user's choice (cookie) first, then the browser's languages.
            options.RequestCultureProviders = [new CookieRequestCultureProvider(), new AcceptLanguageHeaderRequestCultureProvider()];
            options.FallBackToParentUICultures = true;
        });
        return builder;
    }

    public static IEndpointRouteBuilder MapCultureEndpoints(this IEndpointRouteBuilder app)
    {
        // A link (GET), so it works before any interactivity; it only sets a preference cookie.
        app.MapGet("/culture", (string culture, string? returnUrl, HttpContext http) =>
        {
            var chosen = All.FirstOrDefault(c => string.Equals(c.Name, culture, StringComparison.OrdinalIgnoreCase)) ?? All[0];
            http.Response.Cookies.Append(CookieRequestCultureProvider.DefaultCookieName,
                CookieRequestCultureProvider.MakeCookieValue(new RequestCulture(chosen)),
                new CookieOptions { Expires = DateTimeOffset.UtcNow.AddYears(1), HttpOnly = true, SameSite = SameSiteMode.Lax, IsEssential = true });
            return Results.LocalRedirect(returnUrl is { Length: > 0 } && returnUrl.StartsWith('/') && !returnUrl.StartsWith("//", StringComparison.Ordinal) ? returnUrl : "/");
        }).AllowAnonymous();
        return app;
    }
}
