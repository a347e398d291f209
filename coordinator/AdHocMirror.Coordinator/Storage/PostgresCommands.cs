using Npgsql;

namespace AdHocMirror.Coordinator.Storage;

/// <summary>Statements on one connection (and transaction), with positional parameters ($1, $2, …).</summary>
internal readonly struct PostgresCommands(NpgsqlConnection connection, NpgsqlTransaction? tx)
{
    public NpgsqlCommand Command(string sql, params object?[] parameters)
    {
        var command = new NpgsqlCommand(sql, connection, tx);
        foreach (var value in parameters)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = value ?? DBNull.Value });
        }

        return command;
    }

    public async Task<int> ExecuteAsync(string sql, params object?[] parameters)
    {
        await using var command = Command(sql, parameters);
        return await command.ExecuteNonQueryAsync();
    }

    public async Task<object?> ScalarAsync(string sql, params object?[] parameters)
    {
        await using var command = Command(sql, parameters);
        var value = await command.ExecuteScalarAsync();
        return value is DBNull ? null : value;
    }

    public async Task<List<T>> ReadAsync<T>(string sql, Func<NpgsqlDataReader, T> map, params object?[] parameters)
    {
        await using var command = Command(sql, parameters);
        await using var reader = await command.ExecuteReaderAsync();
        var list = new List<T>();
        while (await reader.ReadAsync())
        {
            list.Add(map(reader));
        }

        return list;
    }

    /// <summary>Records a change in the same transaction, so the others learn of it exactly when it commits.</summary>
    public Task<int> ChangedAsync(ChangeKind kind, string subject) =>
        ExecuteAsync("INSERT INTO changes (kind, subject) VALUES ($1, $2)", (short)kind, subject);

    public async Task<long> AuditAsync(AuditRecord audit) =>
        (long)(await ScalarAsync(
            "INSERT INTO audit (at, actor, action, subject, reason) VALUES ($1, $2, $3, $4, $5) RETURNING id",
            Ms(audit.At), audit.Actor, audit.Action, audit.Subject, audit.Reason))!;

    public static long Ms(DateTimeOffset time) => time.ToUnixTimeMilliseconds();

    public static long? Ms(DateTimeOffset? time) => time?.ToUnixTimeMilliseconds();

    public static DateTimeOffset Time(long ms) => DateTimeOffset.FromUnixTimeMilliseconds(ms);

    public static DateTimeOffset? Time(NpgsqlDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : Time(reader.GetInt64(ordinal));

    public static string BlacklistSubject(BlacklistKind kind, string subject) => $"{(int)kind}:{subject}";
}
