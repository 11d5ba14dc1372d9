using AiPrompts.Api.Ai;
using AiPrompts.Api.ApiKeys;
using AiPrompts.Api.Assistants;
using AiPrompts.Api.Audit;
using AiPrompts.Api.Auth;
using AiPrompts.Api.Budgets;
using AiPrompts.Api.Docs;
using AiPrompts.Api.Extensions;
using AiPrompts.Api.Gateway;
using AiPrompts.Api.Input;
using AiPrompts.Api.Media;
using AiPrompts.Api.PromptRequests;
using AiPrompts.Api.Root;
using AiPrompts.Api.Studio;
using AiPrompts.Api.Usage;
using AiPrompts.Api.Templates;
using AiPrompts.Api.Users;
using AiPrompts.Core.ApiKeys;

if (args is [HealthProbe.Command])
{
    return await HealthProbe.RunAsync();
}

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

// Every endpoint needs a signed-in caller unless it says AllowAnonymous, and an API key only reaches the
// endpoints whose scope it holds (RequireScope).
var api = app.MapGroup("").RequireAuthorization().AddEndpointFilter<RequestRateLimitFilter>().AddEndpointFilterFactory(NumericRules.Factory);
api.MapRootApi();
api.MapApiDocs();
api.MapAuthApi();
api.MapUsersApi().RequireAuthorization(Policies.ManageAll).RequireScope(ApiKeyScopes.Admin);
api.MapApiKeysApi();
api.MapProvidersApi();
api.MapModelsApi();
api.MapAvailabilityApi();
api.MapPromptRequestsApi();
api.MapAiPromptsApi();
api.MapThreadsApi();
api.MapAssistantsApi();
api.MapMediaApi();
api.MapRefineApi();
api.MapImageApi();
api.MapConversationsApi();
api.MapUsageApi();
api.MapBudgetsApi();
api.MapPromptTemplatesApi();
api.MapSandboxApi();
api.MapActiveTemplateApi();
api.MapTemplateRunApi();
api.MapPromptTemplateTypesApi();
api.MapAuditLogsApi();
api.MapGatewayApi();

await app.RunAsync();
return 0;

public partial class Program;
