using AiPrompts.Api.Ai;
using AiPrompts.Api.ApiKeys;
using AiPrompts.Api.Audit;
using AiPrompts.Api.Auth;
using AiPrompts.Api.Docs;
using AiPrompts.Api.Extensions;
using AiPrompts.Api.PromptRequests;
using AiPrompts.Api.Root;
using AiPrompts.Api.Templates;
using AiPrompts.Api.Users;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddApplicationServices();

var app = builder.Build();

if (args is [MasterKeyCommand.Name, ..])
{
    return await MasterKeyCommand.RunAsync(app);
}

app.UseApiPipeline();
app.MapDefaultEndpoints();
app.MapRootApi();
app.MapApiDocs();
app.MapAuthApi();
app.MapUsersApi().RequireAuthorization(Policies.ManageAll);
app.MapApiKeysApi();
app.MapProvidersApi();
app.MapModelsApi();
app.MapAvailabilityApi();
app.MapPromptRequestsApi();
app.MapPromptTemplatesApi();
app.MapTemplateSandboxApi();
app.MapActiveTemplateApi();
app.MapPromptTemplateTypesApi();
app.MapAuditLogsApi();

await app.RunAsync();
return 0;

public partial class Program;
