using System.Text;
using System.Text.Json;
using AiPrompts.Api.Errors;
using AiPrompts.Core.Errors;
using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;

namespace AiPrompts.Api.Input;

/// <summary>
/// The one rule every text a client sends must keep, checked at the edge so that no endpoint needs a check
/// of its own: no NUL character and no lone UTF-16 surrogate, in the path, the query (names and values),
/// the headers, and every string of a JSON body (property names included). Postgres stores neither, so
/// without this rule they fail deep inside a handler; with it they are a 400 <c>validation_failed</c>
/// that names the field. A JSON body must also be UTF-8: another charset is a 415.
/// </summary>
internal static class InputRules
{
    /// <summary>How a field that breaks the rule is described in <c>errors</c>.</summary>
    public const string InvalidText = "The text contains a NUL character or an unpaired surrogate, which are not allowed.";

    public static IApplicationBuilder UseInputRules(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        var request = context.Request;
        if (FindInvalid(request) is { } field)
        {
            await ApiProblem.Validation(new Dictionary<string, string[]> { [field] = [InvalidText] }).ExecuteAsync(context);
            return;
        }
        if (request.ContentType is { } contentType && MediaTypeHeaderValue.TryParse(contentType, out var media))
        {
            if (media.Charset.HasValue && !IsUtf8(media.Charset.Value))
            {
                await ApiProblem.Of(ErrorCode.UnsupportedMediaType, detail: $"The charset '{Truncate(media.Charset.Value)}' is not supported; send UTF-8.").ExecuteAsync(context);
                return;
            }
            if (IsJson(media) && await FindInvalidInBodyAsync(request, context.RequestAborted) is { } bodyField)
            {
                await ApiProblem.Validation(new Dictionary<string, string[]> { [bodyField] = [InvalidText] }).ExecuteAsync(context);
                return;
            }
        }
        await next(context);
    });

    /// <summary>True when the text holds neither a NUL nor an unpaired surrogate.</summary>
    public static bool IsValid(ReadOnlySpan<char> text)
    {
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c == '\0')
            {
                return false;
            }
            if (char.IsHighSurrogate(c))
            {
                if (i + 1 >= text.Length || !char.IsLowSurrogate(text[i + 1]))
                {
                    return false;
                }
                i++;
            }
            else if (char.IsLowSurrogate(c))
            {
                return false;
            }
        }
        return true;
    }

    private static string? FindInvalid(HttpRequest request)
    {
        if (!IsValid(request.Path.Value) || !IsValid(request.PathBase.Value))
        {
            return "path";
        }
        foreach (var (name, values) in request.Query)
        {
            if (!IsValid(name))
            {
                return Describe(name);
            }
            foreach (var value in values)
            {
                if (!IsValid(value))
                {
                    return name;
                }
            }
        }
        foreach (var (name, values) in request.Headers)
        {
            foreach (var value in values)
            {
                if (!IsValid(value))
                {
                    return name;
                }
            }
        }
        return null;
    }

    private static bool IsUtf8(StringSegment charset) =>
        charset.Equals("utf-8", StringComparison.OrdinalIgnoreCase) || charset.Equals("utf8", StringComparison.OrdinalIgnoreCase);

    private static bool IsJson(MediaTypeHeaderValue media) =>
        media.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase)
        || media.Suffix.Equals("json", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// Reads the body once (buffered, so the endpoint reads it again) and walks every string token. A body
    /// that is not valid JSON is left to the endpoint, which reports it.
    /// </summary>
    private static async Task<string?> FindInvalidInBodyAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        request.EnableBuffering();
        byte[] body;
        try
        {
            using var buffer = new MemoryStream();
            await request.Body.CopyToAsync(buffer, cancellationToken);
            body = buffer.ToArray();
        }
        finally
        {
            request.Body.Position = 0;
        }
        return FindInvalidInJson(body);
    }

    /// <summary>The path of the first string (or property name) that breaks the rule, in the camelCase of the body.</summary>
    internal static string? FindInvalidInJson(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { AllowTrailingCommas = false, CommentHandling = JsonCommentHandling.Disallow, MaxDepth = 64 });
        var path = new List<string>();
        var indexes = new Stack<int>();
        string? pendingName = null;
        try
        {
            while (reader.Read())
            {
                switch (reader.TokenType)
                {
                    case JsonTokenType.PropertyName:
                        if (!TryGetString(ref reader, out var name))
                        {
                            return Join(path, Describe(name));
                        }
                        pendingName = name;
                        continue;
                    case JsonTokenType.StartObject:
                    case JsonTokenType.StartArray:
                        Enter(path, indexes, ref pendingName, reader.TokenType == JsonTokenType.StartArray);
                        continue;
                    case JsonTokenType.EndObject:
                    case JsonTokenType.EndArray:
                        Leave(path, indexes);
                        continue;
                    case JsonTokenType.String:
                        if (!TryGetString(ref reader, out _))
                        {
                            return Join(path, pendingName ?? ElementIndex(indexes));
                        }
                        break;
                }
                pendingName = null;
                Advance(indexes);
            }
        }
        catch (JsonException)
        {
            // Not valid JSON: the endpoint's reader reports it.
        }
        return null;
    }

    private static bool TryGetString(ref Utf8JsonReader reader, out string value)
    {
        try
        {
            value = reader.GetString() ?? "";
        }
        catch (InvalidOperationException)
        {
            // An escaped lone surrogate (\udc00) cannot become a string at all.
            value = "";
            return false;
        }
        return IsValid(value);
    }

    // The path is a list of segments; an array's element gets its index, kept on a stack per open array
    // (-1 for an object, so the stack mirrors the nesting).
    private static void Enter(List<string> path, Stack<int> indexes, ref string? pendingName, bool isArray)
    {
        var segment = pendingName ?? ElementIndex(indexes);
        path.Add(segment ?? "");
        pendingName = null;
        indexes.Push(isArray ? 0 : -1);
    }

    private static void Leave(List<string> path, Stack<int> indexes)
    {
        if (indexes.Count > 0)
        {
            indexes.Pop();
        }
        if (path.Count > 0)
        {
            path.RemoveAt(path.Count - 1);
        }
        Advance(indexes);
    }

    private static void Advance(Stack<int> indexes)
    {
        if (indexes.TryPop(out var index))
        {
            indexes.Push(index >= 0 ? index + 1 : index);
        }
    }

    private static string? ElementIndex(Stack<int> indexes) =>
        indexes.TryPeek(out var index) && index >= 0 ? $"[{index}]" : null;

    private static string Join(List<string> path, string? last)
    {
        var builder = new StringBuilder();
        foreach (var segment in path.Skip(1).Append(last ?? ""))
        {
            if (segment.Length == 0)
            {
                continue;
            }
            if (builder.Length > 0 && !segment.StartsWith('['))
            {
                builder.Append('.');
            }
            builder.Append(segment);
        }
        return builder.Length == 0 ? "body" : builder.ToString();
    }

    /// <summary>A name that itself breaks the rule, shown with the offending characters escaped.</summary>
    private static string Describe(string name)
    {
        var builder = new StringBuilder();
        foreach (var c in Truncate(name))
        {
            builder.Append(c == '\0' || char.IsSurrogate(c) ? $"\\u{(int)c:x4}" : c.ToString());
        }
        return builder.ToString();
    }

    private static string Truncate(string text) => text.Length <= 64 ? text : text[..64];

    private static string Truncate(StringSegment text) => Truncate(text.ToString());
}
