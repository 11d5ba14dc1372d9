using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace AiPrompts.Core.Data.EntityConfigurations;

/// <summary>
/// A column default that the schema declares (for SQL written by hand and for rows older than a column),
/// while EF always sends the entity's own value: the model never leaves a value to the database, so a
/// <c>false</c> set on purpose is never mistaken for "unset" and replaced by a <c>true</c> default.
/// </summary>
internal static class ColumnDefaults
{
    public static PropertyBuilder<T> HasColumnDefault<T>(this PropertyBuilder<T> property, T value) =>
        property.HasDefaultValue(value).ValueGeneratedNever();

    public static PropertyBuilder<T> HasColumnDefaultSql<T>(this PropertyBuilder<T> property, string sql) =>
        property.HasDefaultValueSql(sql).ValueGeneratedNever();
}
