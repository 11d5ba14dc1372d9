using Npgsql;
using NpgsqlTypes;

namespace AiPrompts.Core.Budgets;

/// <summary>
/// Admission of a job against the budgets just before its insert, each in a short transaction of its own (the database
/// functions of the BudgetAdmissionAhead migration): the subject's gate is held for microseconds rather than until the
/// job's commit. The job's insert takes the reservation over; one it never takes over is given back.
/// </summary>
public sealed class BudgetReservations(NpgsqlDataSource dataSource)
{
    /// <summary>
    /// Admits <paramref name="job"/>: its estimate joins the holds of every budget that applies, or a
    /// <see cref="PostgresException"/> with <see cref="BudgetRefusal.SqlState"/> says which limit refuses it.
    /// </summary>
    public async Task ReserveAsync(Guid job, JobCharge charge, DateTimeOffset at, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("SELECT budget_reserve_ahead($1, $2, $3, $4, $5, $6)");
        command.Parameters.Add(new() { Value = job });
        command.Parameters.Add(new() { Value = charge.UserId });
        command.Parameters.Add(new() { Value = (object?)charge.ApiKeyId ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Uuid });
        command.Parameters.Add(new() { Value = charge.Cost, NpgsqlDbType = NpgsqlDbType.Numeric });
        command.Parameters.Add(new() { Value = charge.Tokens });
        command.Parameters.Add(new() { Value = at, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Gives back the reservation of a job that was not saved; false when there was none left.</summary>
    public async Task<bool> CancelAsync(Guid job, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("SELECT budget_reservation_cancel($1)");
        command.Parameters.Add(new() { Value = job });
        return (bool)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    /// <summary>Gives back the reservations made before <paramref name="before"/> that no insert took over; answers how many.</summary>
    public async Task<int> ExpireAsync(DateTimeOffset before, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("SELECT budget_reservations_expire($1)");
        command.Parameters.Add(new() { Value = before, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        return (int)(await command.ExecuteScalarAsync(cancellationToken))!;
    }
}
