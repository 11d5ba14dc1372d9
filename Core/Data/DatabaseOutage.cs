using Npgsql;

namespace AiPrompts.Core.Data;

/// <summary>
/// Whether a failure means the database cannot be reached now (refused or dropped connections, a server shutting down,
/// starting up or recovering, an exhausted pool), as opposed to a statement the database refused. The Api answers such
/// a failure with 503 and the job engine retries it; both ask here, so they agree.
/// </summary>
public static class DatabaseOutage
{
    /// <summary>
    /// The exception (or the one inside it: EF Core wraps the driver's, as "likely due to a transient failure") that
    /// says the database is unreachable, or null.
    /// </summary>
    public static Exception? Find(Exception? exception)
    {
        for (; exception is not null; exception = exception.InnerException)
        {
            switch (exception)
            {
                case PostgresException postgres when IsUnavailable(postgres.SqlState):
                    return postgres;
                case PostgresException:
                    return null; // the server answered: a refused statement is not an outage
                case NpgsqlException { IsTransient: true } driver:
                    return driver;
            }
        }
        return null;
    }

    /// <summary>Connection exceptions (08), insufficient resources (53) and operator intervention (57P: shutdown, crash, starting up).</summary>
    private static bool IsUnavailable(string state) =>
        state.StartsWith("08", StringComparison.Ordinal) || state.StartsWith("53", StringComparison.Ordinal) || state.StartsWith("57P", StringComparison.Ordinal);
}
