using System.Buffers.Text;
using System.Linq.Expressions;
using System.Text;
using Microsoft.EntityFrameworkCore;

namespace AiPrompts.Api.Input;

/// <summary>A page of one of our lists: its size, and the row it starts after (newest first).</summary>
internal sealed record PageRequest(int Limit, (DateTimeOffset CreatedAt, Guid Id)? After);

/// <summary>A page of one of OpenAI's lists: its size, its order, and the cursors OpenAI names (<c>after</c>, <c>before</c>).</summary>
internal sealed record OpenAIPageRequest(int Limit, bool Ascending);

/// <summary>
/// The one paging rule of the Api. Every list takes <c>limit</c> from 1 to 100, 20 when left out (OpenAI's numbers, so
/// both kinds of list agree). Our lists are newest first by (created_at, id), with an opaque <c>cursor</c> and the next
/// page's cursor in the answer; OpenAI's lists (assistants, messages, runs, run steps) keep OpenAI's <c>order</c>,
/// <c>after</c> and <c>before</c> over their own key, with <c>has_more</c>.
/// </summary>
internal static class Paging
{
    public const int DefaultLimit = 20;
    public const int MaxLimit = 100;

    public static int Limit(int? limit, Dictionary<string, string[]> errors)
    {
        if (limit is < 1 or > MaxLimit)
        {
            errors["limit"] = [$"The limit must be between 1 and {MaxLimit}."];
        }
        return limit ?? DefaultLimit;
    }

    /// <summary>The page asked for; a cursor this Api did not make is a field error.</summary>
    public static PageRequest Read(int? limit, string? cursor, Dictionary<string, string[]> errors)
    {
        var size = Limit(limit, errors);
        var after = cursor is null ? null : ParseCursor(cursor);
        if (cursor is not null && after is null)
        {
            errors["cursor"] = ["The cursor is not one this API returned."];
        }
        return new PageRequest(size, after);
    }

    public static OpenAIPageRequest ReadOpenAI(int? limit, string? order, Dictionary<string, string[]> errors)
    {
        var size = Limit(limit, errors);
        if (order is not (null or "asc" or "desc"))
        {
            errors["order"] = ["The order must be 'asc' or 'desc'."];
        }
        return new OpenAIPageRequest(size, order == "asc");
    }

    /// <summary>The rows of the page and one more (which says whether another page follows), newest first.</summary>
    public static IQueryable<T> Window<T>(this IQueryable<T> query, PageRequest page, Expression<Func<T, DateTimeOffset>> createdAt, Expression<Func<T, Guid>> id)
    {
        if (page.After is { } after)
        {
            // x.CreatedAt < after.CreatedAt || (x.CreatedAt == after.CreatedAt && x.Id < after.Id), over a closure so EF parameterises it.
            var cursor = new Cursor(after.CreatedAt, after.Id);
            var x = createdAt.Parameters[0];
            var at = createdAt.Body;
            var key = new Rebind(id.Parameters[0], x).Visit(id.Body);
            var cursorAt = Expression.Property(Expression.Constant(cursor), nameof(Cursor.CreatedAt));
            var cursorId = Expression.Property(Expression.Constant(cursor), nameof(Cursor.Id));
            var before = Expression.OrElse(
                Expression.LessThan(at, cursorAt),
                Expression.AndAlso(Expression.Equal(at, cursorAt), Expression.LessThan(Expression.Call(key, CompareGuid, cursorId), Expression.Constant(0))));
            query = query.Where(Expression.Lambda<Func<T, bool>>(before, x));
        }
        return query.OrderByDescending(createdAt).ThenByDescending(id).Take(page.Limit + 1);
    }

    /// <summary>The page's rows and the cursor of the next page (null on the last).</summary>
    public static (List<T> Rows, string? Next) Cut<T>(List<T> window, PageRequest page, Func<T, (DateTimeOffset CreatedAt, Guid Id)> key) =>
        window.Count > page.Limit ? (window[..page.Limit], CursorOf(key(window[page.Limit - 1]))) : (window, null);

    /// <summary>
    /// A page of an OpenAI list over <paramref name="key"/> (an id or a sequence number that grows with time): after and
    /// before follow the order asked for; with only <c>before</c>, the page is the one nearest that cursor.
    /// </summary>
    public static async Task<(List<T> Rows, bool HasMore)> OpenAIPageAsync<T, TKey>(IQueryable<T> query, Expression<Func<T, TKey>> key, OpenAIPageRequest page,
        TKey? after, TKey? before, CancellationToken cancellationToken) where TKey : struct, IComparable<TKey>
    {
        if (after is { } a)
        {
            query = query.Where(Compare(key, a, page.Ascending ? ExpressionType.GreaterThan : ExpressionType.LessThan));
        }
        if (before is { } b)
        {
            query = query.Where(Compare(key, b, page.Ascending ? ExpressionType.LessThan : ExpressionType.GreaterThan));
        }
        // With only "before", read towards it, then turn the page round.
        var towardsBefore = before is not null && after is null;
        var ordered = page.Ascending != towardsBefore ? query.OrderBy(key) : query.OrderByDescending(key);
        var rows = await ordered.Take(page.Limit + 1).ToListAsync(cancellationToken);
        var more = rows.Count > page.Limit;
        rows = rows.Count > page.Limit ? rows[..page.Limit] : rows;
        if (towardsBefore)
        {
            rows.Reverse();
        }
        return (rows, more);
    }

    public static string CursorOf((DateTimeOffset CreatedAt, Guid Id) row) =>
        Base64Url.EncodeToString(Encoding.ASCII.GetBytes($"{row.CreatedAt.UtcTicks}:{row.Id:N}"));

    private static (DateTimeOffset CreatedAt, Guid Id)? ParseCursor(string cursor)
    {
        try
        {
            var parts = Encoding.ASCII.GetString(Base64Url.DecodeFromChars(cursor)).Split(':');
            return parts.Length == 2 && long.TryParse(parts[0], out var ticks) && ticks > 0 && ticks < DateTimeOffset.MaxValue.UtcTicks && Guid.TryParseExact(parts[1], "N", out var id)
                ? (new DateTimeOffset(ticks, TimeSpan.Zero), id)
                : null;
        }
        catch (FormatException)
        {
            return null;
        }
    }

    /// <summary><c>key(x) op value</c>; a Guid compares through CompareTo, which EF Core translates as the database orders uuids.</summary>
    private static Expression<Func<T, bool>> Compare<T, TKey>(Expression<Func<T, TKey>> key, TKey value, ExpressionType op) where TKey : struct
    {
        var holder = Expression.Property(Expression.Constant(new Holder<TKey>(value)), nameof(Holder<TKey>.Value));
        Expression left = key.Body, right = holder;
        if (typeof(TKey) == typeof(Guid))
        {
            left = Expression.Call(key.Body, CompareGuid, holder);
            right = Expression.Constant(0);
        }
        return Expression.Lambda<Func<T, bool>>(Expression.MakeBinary(op, left, right), key.Parameters[0]);
    }

    private static readonly System.Reflection.MethodInfo CompareGuid = typeof(Guid).GetMethod(nameof(Guid.CompareTo), [typeof(Guid)])!;

    private sealed record Cursor(DateTimeOffset CreatedAt, Guid Id);

    private sealed record Holder<TKey>(TKey Value);

    private sealed class Rebind(ParameterExpression from, ParameterExpression to) : ExpressionVisitor
    {
        protected override Expression VisitParameter(ParameterExpression node) => node == from ? to : base.VisitParameter(node);
    }
}
