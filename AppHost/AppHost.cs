using AiPrompts.AppHost;

var builder = DistributedApplication.CreateBuilder(args);

// Secrets are parameters: generated on first run and kept in this project's user secrets (never committed);
// set Parameters:<name> (user secrets, or Parameters__<name> in the environment) to choose your own.
var masterKey = builder.AddParameter("master-key", new RandomKeyDefault(), secret: true, persist: true);
var jwtSigningKey = builder.AddParameter("jwt-signing-key", new GenerateParameterDefault { MinLength = 64, Special = false }, secret: true, persist: true);
var adminEmail = builder.AddParameter("bootstrap-admin-email", "admin@aiprompts.local", publishValueAsDefault: false);
var adminPassword = builder.AddParameter("bootstrap-admin-password", new GenerateParameterDefault { MinLength = 20, Special = false }, secret: true, persist: true);

// Where Postgres and Redis come from: AppHost:Infrastructure = containers (default) | executables | external.
var infrastructure = Infrastructure.Add(builder);

// The Api owns the migrations and serves every endpoint.
var api = builder.AddProject<Projects.Api>("api")
    .WithReference(infrastructure.Database).WithReference(infrastructure.Redis)
    .WaitForInfrastructure(infrastructure)
    .WithEnvironment("Keys__MasterKey", masterKey)
    .WithEnvironment("Auth__Jwt__SigningKey", jwtSigningKey)
    .WithEnvironment("Bootstrap__SuperAdmin__Email", adminEmail)
    .WithEnvironment("Bootstrap__SuperAdmin__Password", adminPassword)
    .WithExternalHttpEndpoints()
    .WithUrlForEndpoint("http", url => url.DisplayText = "Api")
    .WithUrl("/scalar", "API reference (Scalar)")
    .WithHttpHealthCheck("/health");

// The Worker is the only process that calls AI vendors; it starts once the Api (and so the schema) is up.
builder.AddProject<Projects.Worker>("worker")
    .WithReference(infrastructure.Database).WithReference(infrastructure.Redis)
    .WithEnvironment("Keys__MasterKey", masterKey)
    .WaitFor(api)
    .WithHttpHealthCheck("/health");

// The admin console: signs in through the Api; its cookies are sealed with keys kept in Redis (shared by every instance).
builder.AddProject<Projects.Web>("web")
    .WithReference(api).WithReference(infrastructure.Redis)
    .WaitFor(api)
    .WithExternalHttpEndpoints()
    .WithUrlForEndpoint("http", url => url.DisplayText = "Admin console")
    .WithHttpHealthCheck("/health");

builder.Build().Run();
