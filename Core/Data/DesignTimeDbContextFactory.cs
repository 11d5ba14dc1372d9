using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace AiPrompts.Core.Data;

/// <summary>
/// For dotnet-ef only (`dotnet ef migrations add Name --project Core`): the model needs no database, so the
/// connection string is a placeholder unless ConnectionStrings__promptsdb is set.
/// </summary>
internal sealed class DesignTimeDbContextFactory : IDesignTimeDbContextFactory<AppDbContext>
{
    public AppDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<AppDbContext>()
            .UseNpgsql(Environment.GetEnvironmentVariable("ConnectionStrings__promptsdb") ?? "Host=localhost;Database=promptsdb")
            .Options);
}
