using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.FluentUI.AspNetCore.Components;

namespace AiPrompts.Web.ComponentTests;

/// <summary>A bUnit context with what the console's components use: Fluent UI, the console's texts (English), loose JS interop.</summary>
public abstract class ConsoleComponents : BunitContext
{
    protected ConsoleComponents()
    {
        CultureInfo.CurrentCulture = CultureInfo.CurrentUICulture = CultureInfo.GetCultureInfo("en-US");
        Services.AddLocalization();
        Services.AddFluentUIComponents();
        JSInterop.Mode = JSRuntimeMode.Loose;
    }
}
