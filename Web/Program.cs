using AiPrompts.Web.Account;
using AiPrompts.Web.Components;
using AiPrompts.Web.Extensions;
using AiPrompts.Web.Localization;
using AiPrompts.Web.Usage;

if (args is [HealthProbe.Command])
{
    return await HealthProbe.RunAsync();
}

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddWebServices();

var app = builder.Build();

app.UseWebPipeline();
app.MapDefaultEndpoints();
app.MapAccountEndpoints();
app.MapCultureEndpoints();
app.MapUsageExport();
app.MapStaticAssets();
app.MapRazorComponents<App>().AddInteractiveServerRenderMode();

await app.RunAsync();
return 0;
