using AiPrompts.Api.ApiKeys;
using AiPrompts.Api.Auth;
using AiPrompts.Api.Docs;
using AiPrompts.Api.Extensions;
using AiPrompts.Api.Root;
using AiPrompts.Api.Users;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddApplicationServices();

var app = builder.Build();

app.UseApiPipeline();
app.MapDefaultEndpoints();
app.MapRootApi();
app.MapApiDocs();
app.MapAuthApi();
app.MapUsersApi().RequireAuthorization(Policies.ManageAll);
app.MapApiKeysApi();

app.Run();

public partial class Program;
