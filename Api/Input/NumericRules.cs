using System.Globalization;
using System.Reflection;
using System.Text.Json;
using AiPrompts.Api.Errors;

namespace AiPrompts.Api.Input;

/// <summary>
/// A decimal that is stored in a <c>numeric(precision, scale)</c> column: the body property says so, and
/// <see cref="NumericRules"/> refuses a value the column cannot hold (too large, or with more decimals than
/// it keeps, which Postgres would silently round away) with a 400 that gives the range and precision.
/// </summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Parameter)]
public sealed class NumericAttribute(int precision, int scale) : Attribute
{
    public int Precision { get; } = precision;
    public int Scale { get; } = scale;

    /// <summary>The largest value the column holds: 10^(precision - scale) less one unit of the last decimal.</summary>
    public decimal Max => Pow10(Precision - Scale) - 1m / Pow10(Scale);

    public bool Allows(decimal value) => Math.Abs(value) <= Max && decimal.Round(value, Scale) == value;

    public string Describe() =>
        $"The value must be between {(-Max).ToString(CultureInfo.InvariantCulture)} and {Max.ToString(CultureInfo.InvariantCulture)}, with at most {Scale} decimal places.";

    private static decimal Pow10(int n)
    {
        var result = 1m;
        for (var i = 0; i < n; i++)
        {
            result *= 10;
        }
        return result;
    }
}

/// <summary>
/// An endpoint filter on every endpoint (Program.cs): for each bound body whose type has
/// <see cref="NumericAttribute"/> properties, checks them before the handler runs. Endpoints without such
/// a body get no filter at all.
/// </summary>
internal static class NumericRules
{
    public static EndpointFilterDelegate Factory(EndpointFilterFactoryContext context, EndpointFilterDelegate next)
    {
        var checks = context.MethodInfo.GetParameters()
            .Select((parameter, index) => (index, type: parameter.ParameterType))
            .Where(x => HasRules(x.type, depth: 0))
            .ToArray();
        if (checks.Length == 0)
        {
            return next;
        }
        return invocation =>
        {
            var errors = new Dictionary<string, string[]>();
            foreach (var (index, _) in checks)
            {
                Check(invocation.Arguments[index], "", errors, depth: 0);
            }
            return errors.Count > 0 ? ValueTask.FromResult<object?>(ApiProblem.Validation(errors)) : next(invocation);
        };
    }

    private const int MaxDepth = 3;

    /// <summary>Walks a bound body: its numeric properties, and those of the records (and lists of records) it holds.</summary>
    private static void Check(object? value, string path, Dictionary<string, string[]> errors, int depth)
    {
        if (value is null || depth > MaxDepth || !IsOurs(value.GetType()))
        {
            return;
        }
        foreach (var property in value.GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            var name = path + JsonNamingPolicy.CamelCase.ConvertName(property.Name);
            var item = property.GetValue(value);
            if (property.GetCustomAttribute<NumericAttribute>() is { } rule)
            {
                if (item is decimal number && !rule.Allows(number))
                {
                    errors[name] = [rule.Describe()];
                }
            }
            else if (item is System.Collections.IEnumerable list and not string)
            {
                var i = 0;
                foreach (var element in list)
                {
                    Check(element, $"{name}[{i++}].", errors, depth + 1);
                }
            }
            else
            {
                Check(item, name + ".", errors, depth + 1);
            }
        }
    }

    private static bool HasRules(Type type, int depth)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        if (type.IsArray)
        {
            type = type.GetElementType()!;
        }
        else if (type.IsGenericType && type.GetGenericArguments() is [var element] && typeof(System.Collections.IEnumerable).IsAssignableFrom(type))
        {
            type = element;
        }
        return depth <= MaxDepth && IsOurs(type)
            && type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
                .Any(p => p.GetCustomAttribute<NumericAttribute>() is not null || HasRules(p.PropertyType, depth + 1));
    }

    private static bool IsOurs(Type type) => type.IsClass && type.Namespace?.StartsWith("AiPrompts", StringComparison.Ordinal) == true;
}
