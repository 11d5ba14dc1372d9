namespace AiPrompts.Tests.Infrastructure;

/// <summary>The real servers the tests use, started by scripts/test and passed in the environment.</summary>
public static class TestEnvironment
{
    public static string PostgresAdmin => Required("AIPROMPTS_TEST_POSTGRES");
    public static string Redis => Required("AIPROMPTS_TEST_REDIS");
    public static string RedisServerBinary => Environment.GetEnvironmentVariable("AIPROMPTS_TEST_REDIS_SERVER") is { Length: > 0 } path ? path : "redis-server";
    /// <summary>The checkout the tests run from (the folder with Aspire.sln).</summary>
    public static string RepositoryRoot
    {
        get
        {
            for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
            {
                if (File.Exists(Path.Combine(directory.FullName, "Aspire.sln")))
                {
                    return directory.FullName;
                }
            }
            throw new InvalidOperationException("The tests do not run from inside the repository.");
        }
    }

    public static string StateDirectory => Environment.GetEnvironmentVariable("AIPROMPTS_TEST_STATE") is { Length: > 0 } dir ? dir : Path.GetTempPath();

    private static string Required(string name) =>
        Environment.GetEnvironmentVariable(name) is { Length: > 0 } value
            ? value
            : throw new InvalidOperationException($"{name} is not set: run the tests with scripts/test, which starts real Postgres and Redis servers.");
}
