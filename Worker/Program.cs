using AiPrompts.Core;
using AiPrompts.Worker;

if (args is [HealthProbe.Command])
{
    return await HealthProbe.RunAsync();
}

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddCoreServices();
builder.AddWorkerServices();

var app = builder.Build();

app.MapDefaultEndpoints();

await app.RunAsync();
return 0;
