using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata;

namespace AiPrompts.Core.Data;

/// <summary>
/// Names every table and column in snake_case, and every key and foreign key the way PostgreSQL names an
/// unnamed one ({table}_pkey, {table}_{columns}_fkey): the names the schema had before EF Core migrations,
/// so databases made either way stay identical.
/// </summary>
public static class SnakeCaseNames
{
    public static void Apply(ModelBuilder modelBuilder)
    {
        foreach (var entity in modelBuilder.Model.GetEntityTypes())
        {
            if (entity.GetTableName() is { } table && entity.FindAnnotation(RelationalAnnotationNames.TableName) is null)
            {
                entity.SetTableName(ToSnakeCase(table));
            }
            foreach (var property in entity.GetProperties())
            {
                if (property.FindAnnotation(RelationalAnnotationNames.ColumnName) is null)
                {
                    property.SetColumnName(ToSnakeCase(property.Name));
                }
            }
        }
        foreach (var entity in modelBuilder.Model.GetEntityTypes())
        {
            var table = entity.GetTableName()!;
            if (entity.FindPrimaryKey() is { } primaryKey && primaryKey.FindAnnotation(RelationalAnnotationNames.Name) is null)
            {
                primaryKey.SetName($"{table}_pkey");
            }
            foreach (var foreignKey in entity.GetForeignKeys())
            {
                if (foreignKey.FindAnnotation(RelationalAnnotationNames.Name) is null)
                {
                    foreignKey.SetConstraintName($"{table}_{string.Join('_', foreignKey.Properties.Select(p => p.GetColumnName()))}_fkey");
                }
            }
        }
    }

    public static string ToSnakeCase(string name)
    {
        var builder = new StringBuilder(name.Length + 8);
        for (var i = 0; i < name.Length; i++)
        {
            var c = name[i];
            if (char.IsUpper(c))
            {
                var previousIsLower = i > 0 && (char.IsLower(name[i - 1]) || char.IsDigit(name[i - 1]));
                var nextIsLower = i + 1 < name.Length && char.IsLower(name[i + 1]);
                if (i > 0 && (previousIsLower || (nextIsLower && char.IsUpper(name[i - 1]))))
                {
                    builder.Append('_');
                }
                builder.Append(char.ToLowerInvariant(c));
            }
            else
            {
                builder.Append(c);
            }
        }
        return builder.ToString();
    }
}
