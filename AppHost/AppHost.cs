var builder = DistributedApplication.CreateBuilder(args);

// Secrets: set them with `dotnet user-secrets set Parameters:<name> <value>` in this folder, or as
// Parameters__<name> environment variables; the dashboard asks for any that are missing.
var masterKey = builder.AddParameter("master-key", secret: true);
var jwtSigningKey = builder.AddParameter("jwt-signing-key", secret: true);
var adminEmail = builder.AddParameter("bootstrap-admin-email");
var adminPassword = builder.AddParameter("bootstrap-admin-password", secret: true);

var postgres = builder.AddPostgres("postgres").WithDataVolume();
var promptsDb = postgres.AddDatabase("promptsdb");
var redis = builder.AddRedis("redis");

// The Api owns the migrations and serves every endpoint.
var api = builder.AddProject<Projects.Api>("api")
    .WithReference(promptsDb).WaitFor(promptsDb)
    .WithReference(redis).WaitFor(redis)
    .WithEnvironment("Keys__MasterKey", masterKey)
    .WithEnvironment("Auth__Jwt__SigningKey", jwtSigningKey)
    .WithEnvironment("Bootstrap__SuperAdmin__Email", adminEmail)
    .WithEnvironment("Bootstrap__SuperAdmin__Password", adminPassword)
    .WithExternalHttpEndpoints()
    .WithHttpHealthCheck("/health");

// The Worker is the only process that calls AI vendors; it starts once the Api (and so the schema) is up.
builder.AddProject<Projects.Worker>("worker")
    .WithReference(promptsDb)
    .WithReference(redis)
    .WithEnvironment("Keys__MasterKey", masterKey)
    .WaitFor(api)
    .WithHttpHealthCheck("/health");

builder.Build().Run();
