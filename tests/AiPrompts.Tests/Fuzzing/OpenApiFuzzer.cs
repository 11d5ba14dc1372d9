using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using CsCheck;
using Json.Schema;

namespace AiPrompts.Tests.Fuzzing;

/// <summary>One request the fuzzer sends: the operation, the concrete URL, headers and body.</summary>
public sealed record FuzzRequest(string OperationId, string Method, string Url, IReadOnlyList<(string Name, string Value)> Headers, string? ContentType, string? Body)
{
    public override string ToString()
    {
        var body = Body is null ? "" : Body.Length > 300 ? Body[..300] + $"… ({Body.Length} chars)" : Body;
        var url = Url.Length > 300 ? Url[..300] + $"… ({Url.Length} chars)" : Url;
        return $"{Method} {url} [{ContentType}] {string.Join(" ", Headers.Select(h => $"{h.Name}: {h.Value}"))} {body}";
    }
}

/// <summary>What was wrong with one answer.</summary>
public sealed record FuzzFailure(FuzzRequest Request, int Status, string Problem, string Body);

/// <summary>What a run did, for the report.</summary>
public sealed record FuzzReport(int Operations, int Cases, TimeSpan Elapsed, IReadOnlyDictionary<int, int> Statuses, IReadOnlyList<FuzzFailure> Failures);

/// <summary>
/// A property-based fuzzer driven by the API's own OpenAPI document (the one the live Api serves). For each
/// operation it builds a CsCheck generator of requests from the document's parameters and request body
/// schema, mixing values that fit the schema with boundary and hostile ones (NUL, lone surrogates, huge and
/// tiny numbers, long strings, wrong types, broken JSON, odd content types and charsets), and checks every
/// answer: no 5xx, a status the operation declares, a body that matches the declared schema, and an answer
/// within the time bound. Generation is deterministic for a seed (CsCheck's PCG), so a CI failure replays.
/// </summary>
public sealed class OpenApiFuzzer(HttpClient client, JsonElement document)
{
    public static readonly TimeSpan TimeBound = TimeSpan.FromSeconds(10);

    private const string LoneSurrogate = "\u0001LONE\u0001";
    private const string HugeNumber = "\u0001HUGE\u0001";
    private readonly JsonElement _schemas = document.GetProperty("components").GetProperty("schemas");
    private readonly ConcurrentDictionary<string, JsonSchema> _compiled = new();

    /// <summary>Every (path, method, operation) of the document.</summary>
    public IReadOnlyList<(string Path, string Method, JsonElement Operation)> Operations =>
        [.. document.GetProperty("paths").EnumerateObject().SelectMany(path => path.Value.EnumerateObject()
            .Where(m => m.Name is "get" or "post" or "put" or "patch" or "delete")
            .Select(m => (path.Name, m.Name.ToUpperInvariant(), m.Value)))];

    public async Task<FuzzReport> RunAsync(int casesPerOperation, ulong seed, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var failures = new List<FuzzFailure>();
        var statuses = new SortedDictionary<int, int>();
        var operations = Operations;
        var pcg = new PCG(1, seed);
        var cases = 0;
        foreach (var (path, method, operation) in operations)
        {
            var generator = RequestGen(path, method, operation);
            for (var i = 0; i < casesPerOperation; i++)
            {
                var request = generator.Generate(pcg, null, out _);
                var (status, problem, body) = await SendAndCheckAsync(request, operation, cancellationToken);
                cases++;
                statuses[status] = statuses.GetValueOrDefault(status) + 1;
                if (problem is not null)
                {
                    failures.Add(new FuzzFailure(request, status, problem, body.Length > 600 ? body[..600] : body));
                }
            }
        }
        return new FuzzReport(operations.Count, cases, Stopwatch.GetElapsedTime(started), statuses, failures);
    }

    private async Task<(int Status, string? Problem, string Body)> SendAndCheckAsync(FuzzRequest request, JsonElement operation, CancellationToken cancellationToken)
    {
        using var message = new HttpRequestMessage(new HttpMethod(request.Method), request.Url);
        foreach (var (name, value) in request.Headers)
        {
            message.Headers.TryAddWithoutValidation(name, value);
        }
        if (request.Body is not null)
        {
            message.Content = new ByteArrayContent(Encoding.UTF8.GetBytes(request.Body));
            message.Content.Headers.TryAddWithoutValidation("Content-Type", request.ContentType);
        }
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeBound);
        var started = Stopwatch.GetTimestamp();
        HttpResponseMessage response;
        string body;
        try
        {
            response = await client.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            body = response.Content.Headers.ContentType?.MediaType == "text/event-stream" ? "" : await response.Content.ReadAsStringAsync(timeout.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return (0, $"no answer within {TimeBound.TotalSeconds} s", "");
        }
        using (response)
        {
            var status = (int)response.StatusCode;
            var elapsed = Stopwatch.GetElapsedTime(started);
            if (status >= 500 && !(status == 504 && body.Contains("\"code\":\"run_not_finished\"", StringComparison.Ordinal)))
            {
                // The one 5xx that is no failure: the model (upstream) has not answered within /chat's bounded
                // wait; this fuzzer runs no Worker, so every chat ends there.
                return (status, "a server error", body);
            }
            if (elapsed > TimeBound)
            {
                return (status, $"answered in {elapsed.TotalSeconds:0.0} s, over the bound", body);
            }
            var responses = operation.GetProperty("responses");
            var key = status.ToString(CultureInfo.InvariantCulture);
            if (!responses.TryGetProperty(key, out var declared) && !responses.TryGetProperty("default", out declared))
            {
                return (status, $"status {status} is not declared (declared: {string.Join(", ", responses.EnumerateObject().Select(r => r.Name))})", body);
            }
            return (status, CheckBody(request.OperationId, key, declared, response, body) ?? CheckLanguage(response, body), body);
        }
    }

    /// <summary>
    /// An answer in Thai (Content-Language: th) has its free texts in Thai too: detail and every field
    /// message hold Thai script, so an English text the Thai catalogue lacks is found here.
    /// </summary>
    private static string? CheckLanguage(HttpResponseMessage response, string body)
    {
        if (!response.Content.Headers.ContentLanguage.Contains("th") || response.Content.Headers.ContentType?.MediaType != "application/problem+json")
        {
            return null;
        }
        using var problem = JsonDocument.Parse(body);
        var texts = new List<string>();
        if (problem.RootElement.TryGetProperty("detail", out var detail) && detail.ValueKind == JsonValueKind.String)
        {
            texts.Add(detail.GetString()!);
        }
        if (problem.RootElement.TryGetProperty("errors", out var errors) && errors.ValueKind == JsonValueKind.Object)
        {
            texts.AddRange(errors.EnumerateObject().SelectMany(e => e.Value.EnumerateArray()).Select(m => m.GetString() ?? ""));
        }
        return texts.FirstOrDefault(t => !t.Any(c => c is >= '\u0E00' and <= '\u0E7F')) is { } english
            ? $"an answer in Thai carries an untranslated text: \"{english}\""
            : null;
    }

    /// <summary>
    /// An answer against what the document declares for the operation its request went to (found by method and path): a
    /// declared status, and a body of a declared media type that fits the schema. Null when it fits.
    /// </summary>
    public string? CheckAnswer(HttpRequestMessage request, HttpResponseMessage response, string body)
    {
        var path = request.RequestUri!.AbsolutePath;
        var (_, _, operation) = Operations.FirstOrDefault(o => o.Method == request.Method.Method && PathPattern(o.Path).IsMatch(path));
        if (operation.ValueKind != JsonValueKind.Object)
        {
            return $"no operation of the document answers {request.Method} {path}";
        }
        var status = ((int)response.StatusCode).ToString(CultureInfo.InvariantCulture);
        var responses = operation.GetProperty("responses");
        if (!responses.TryGetProperty(status, out var declared) && !responses.TryGetProperty("default", out declared))
        {
            return $"status {status} is not declared";
        }
        return CheckBody(operation.GetProperty("operationId").GetString()!, status, declared, response, body);
    }

    /// <summary>A path template as a pattern: <c>{name}</c> is one segment, <c>{**name}</c> the rest of the path.</summary>
    private static Regex PathPattern(string template) =>
        new("^" + Regex.Replace(Regex.Escape(template), @"\\\{(\\\*\\\*)?[^}]+}", m => m.Groups[1].Success ? ".+" : "[^/]+") + "$");

    /// <summary>The body against the declared content: its media type, that it parses, and that it fits the schema.</summary>
    private string? CheckBody(string operationId, string status, JsonElement declared, HttpResponseMessage response, string body)
    {
        if (!declared.TryGetProperty("content", out var content) || body.Length == 0)
        {
            return null;
        }
        var mediaType = response.Content.Headers.ContentType?.MediaType ?? "";
        if (!content.TryGetProperty(mediaType, out var media))
        {
            // A JSON answer where the document says application/json, or the reverse, is still a mismatch.
            return $"content type '{mediaType}' is not declared (declared: {string.Join(", ", content.EnumerateObject().Select(c => c.Name))})";
        }
        if (!media.TryGetProperty("schema", out var schema) || !mediaType.EndsWith("json", StringComparison.Ordinal))
        {
            return null;
        }
        JsonElement instance;
        try
        {
            instance = JsonDocument.Parse(body).RootElement.Clone();
        }
        catch (JsonException ex)
        {
            return $"the body is not JSON: {ex.Message}";
        }
        var compiled = _compiled.GetOrAdd($"{operationId} {status} {mediaType}", _ => Compile(schema));
        var result = compiled.Evaluate(instance, new EvaluationOptions { OutputFormat = OutputFormat.List });
        if (result.IsValid)
        {
            return null;
        }
        var errors = (result.Details ?? []).Where(d => d.Errors is { Count: > 0 })
            .SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation}: {e.Value}")).Take(5);
        return $"the body does not match the declared schema: {string.Join("; ", errors)}";
    }

    /// <summary>A response schema as a JSON Schema 2020-12 document, the document's components as its $defs.</summary>
    private JsonSchema Compile(JsonElement schema)
    {
        static string Rewrite(string json) => json.Replace("#/components/schemas/", "#/$defs/", StringComparison.Ordinal);
        var root = JsonNode.Parse(Rewrite(schema.GetRawText()))!.AsObject();
        root["$schema"] = "https://json-schema.org/draft/2020-12/schema";
        root["$defs"] = JsonNode.Parse(Rewrite(_schemas.GetRawText()));
        return JsonSchema.FromText(root.ToJsonString(), new BuildOptions { SchemaRegistry = new SchemaRegistry() });
    }

    // ---------------------------------------------------------------- generation

    private static Gen<T> Mix<T>(params (int Weight, Gen<T> Gen)[] options) => Gen.Frequency([.. options.Select(o => (o.Weight, (IGen<T>)o.Gen))]);

    private static Gen<T> Pick<T>(params T[] values) => Gen.OneOf(values);

    private static Gen<T> Always<T>(T value) => Gen.Const(value);

    private Gen<FuzzRequest> RequestGen(string path, string method, JsonElement operation)
    {
        var operationId = operation.TryGetProperty("operationId", out var id) ? id.GetString()! : $"{method} {path}";
        var parameters = operation.TryGetProperty("parameters", out var list) ? list.EnumerateArray().Select(Resolve).ToList() : [];
        var pathGen = PathGen(path, parameters.Where(p => p.GetProperty("in").GetString() == "path").ToList());
        var queryGen = QueryGen(parameters.Where(p => p.GetProperty("in").GetString() == "query").ToList());
        var headerGen = HeaderGen(parameters.Where(p => p.GetProperty("in").GetString() == "header").ToList());
        var bodySchema = operation.TryGetProperty("requestBody", out var requestBody)
            && requestBody.TryGetProperty("content", out var content)
            && content.EnumerateObject().FirstOrDefault(c => c.Name.Contains("json", StringComparison.Ordinal)) is { Value.ValueKind: JsonValueKind.Object } json
            && json.Value.TryGetProperty("schema", out var s) ? s : (JsonElement?)null;
        var bodyGen = bodySchema is { } schema ? BodyGen(schema) : Mix((9, Always<(string?, string?)>((null, null))), (1, OddBodyGen));
        return Gen.Select(pathGen, queryGen, headerGen, bodyGen, (p, q, h, b) =>
            new FuzzRequest(operationId, method, p + q, h, b.Item1, b.Item2));
    }

    private JsonElement Resolve(JsonElement node)
    {
        while (node.ValueKind == JsonValueKind.Object && node.TryGetProperty("$ref", out var reference))
        {
            var parts = reference.GetString()!.TrimStart('#', '/').Split('/');
            var target = document;
            foreach (var part in parts)
            {
                target = target.GetProperty(part);
            }
            node = target;
        }
        return node;
    }

    /// <summary>Words the API knows, so that generated requests reach past "not found" into real code.</summary>
    private static readonly string[] KnownWords =
    [
        "text", "code", "report", "ocr_extraction", "local", "local-text", "openai", "gpt-4o-mini", "chat", "content", "image",
        "audio", "user", "admin", "super_admin", "prompts", "templates:read", "templates:write", "enabled", "prices", "capabilities",
        "pending", "completed", "failed", "root@aiprompts.test", "a@b.co", "1", "2", "0",
    ];

    private static readonly Gen<string> Hostile = Pick(
        "", " ", "\0", "a\0b", LoneSurrogate, "😀", new string('x', 10_000), new string('é', 3_000), "\u202e\u200b", "' OR '1'='1", "../../etc/passwd",
        "<script>alert(1)</script>", "%00", "null", "-1", "1e400", "NaN", "{{ocr_text}}", "{{", "}}", "\r\n", "\t", "ǅ", "x".PadRight(201, 'y'));

    private static readonly Gen<string> Word = Mix(
        (5, Pick(KnownWords)),
        (3, Gen.String[Gen.Char.AlphaNumeric, 1, 24]),
        (3, Hostile));

    private Gen<string> PathGen(string path, List<JsonElement> parameters)
    {
        var gens = parameters.Select(p =>
        {
            var name = p.GetProperty("name").GetString()!;
            var schema = p.TryGetProperty("schema", out var s) ? Resolve(s) : default;
            // An empty segment would be another URL (another operation's), not a value of this one.
            return ScalarText(schema).Select(v => (name, value: v.Length == 0 ? " " : v));
        }).ToArray();
        if (gens.Length == 0)
        {
            return Always(path);
        }
        return Gen.Select(gens.Aggregate(Always(new List<(string, string)>()), (acc, g) => acc.Select(g, (list, item) => new List<(string, string)>(list) { item })),
            values =>
            {
                var url = path;
                foreach (var (name, value) in values)
                {
                    url = url.Replace("{" + name + "}", Escape(value), StringComparison.Ordinal);
                }
                return url;
            });
    }

    private Gen<string> QueryGen(List<JsonElement> parameters)
    {
        if (parameters.Count == 0)
        {
            return Mix((9, Always("")), (1, Hostile.Select(h => "?" + Escape(h) + "=" + Escape(h))));
        }
        var gens = parameters.Select(p =>
        {
            var name = p.GetProperty("name").GetString()!;
            var schema = p.TryGetProperty("schema", out var s) ? Resolve(s) : default;
            return Mix((1, Always<string?>(null)), (1, ScalarText(schema).Select(v => (string?)$"{Escape(name)}={Escape(v)}")));
        }).ToArray();
        return gens.Aggregate(Always(""), (acc, g) => acc.Select(g, (q, part) => part is null ? q : q + (q.Length == 0 ? "?" : "&") + part));
    }

    private static readonly Gen<(string Name, string Value)?> NoHeader = Always<(string, string)?>(null);

    private static Gen<IReadOnlyList<(string Name, string Value)>> HeaderGen(List<JsonElement> parameters)
    {
        var language = Mix((4, NoHeader), (1, Pick("th", "en", "xx-YY", "*", "th;q=abc", "th-TH,th;q=0.9").Select(v => ((string, string)?)("Accept-Language", v))));
        var declared = parameters.Select(p =>
        {
            var name = p.GetProperty("name").GetString()!;
            return Mix((1, NoHeader), (1, Mix(
                (3, Gen.String[Gen.Char.AlphaNumeric, 1, 40]),
                (1, Pick("", "a,b", " ", new string('k', 300), "\u007f", "1"))).Select(v => ((string, string)?)(name, v))));
        });
        return declared.Append(language).Aggregate(
            Always<IReadOnlyList<(string, string)>>([]),
            (acc, g) => acc.Select(g, (list, header) => header is { } h ? (IReadOnlyList<(string, string)>)[.. list, h] : list));
    }

    private static readonly Gen<string> ContentType = Mix(
        (12, Always("application/json")),
        (1, Pick("application/json; charset=klingon", "application/json; charset=utf-16", "text/plain", "application/x-www-form-urlencoded",
            "application/merge-patch+json", "application/json; charset=UTF-8", "multipart/form-data; boundary=x", "application/xml")));

    private static readonly Gen<(string?, string?)> OddBodyGen = Gen.Select(ContentType, Pick(
        "", "{", "[", "null", "\"text\"", "42", "{\"a\":", "{}", "[]", "{\"\u0000\":1}", "not json at all", new string('[', 200) + new string(']', 200),
        "{\"a\":\"\\udc00\"}", "{\"a\":1e400}", "\u00ef\u00bb\u00bf{}"), (t, b) => ((string?)t, (string?)b));

    private Gen<(string?, string?)> BodyGen(JsonElement schema)
    {
        var valid = ValueGen(schema, 0).Select(node => Serialize(node));
        return Mix(
            (8, Gen.Select(ContentType, valid, (t, b) => ((string?)t, (string?)b))),
            (1, OddBodyGen),
            (1, Always<(string?, string?)>((null, null))));
    }

    /// <summary>A JSON value for a schema: usually of its shape, sometimes of another, sometimes hostile.</summary>
    private Gen<JsonNode?> ValueGen(JsonElement schema, int depth)
    {
        schema = Resolve(schema);
        if (depth > 5 || schema.ValueKind != JsonValueKind.Object)
        {
            return Always<JsonNode?>(null);
        }
        if (schema.TryGetProperty("enum", out var choices) && choices.GetArrayLength() > 0)
        {
            var values = choices.EnumerateArray().Select(c => JsonNode.Parse(c.GetRawText())).ToArray();
            return Mix((4, Pick(values)), (1, Word.Select(w => (JsonNode?)JsonValue.Create(w))));
        }
        foreach (var keyword in (string[])["oneOf", "anyOf"])
        {
            if (schema.TryGetProperty(keyword, out var options) && options.GetArrayLength() > 0)
            {
                return Gen.OneOf(options.EnumerateArray().Select(o => ValueGen(o, depth + 1)).ToArray());
            }
        }
        var types = TypesOf(schema);
        var gens = types.Select(type => type switch
        {
            "object" => ObjectGen(schema, depth),
            "array" => ArrayGen(schema, depth),
            "integer" => IntegerGen,
            "number" => NumberGen,
            "boolean" => Gen.Bool.Select(b => (JsonNode?)JsonValue.Create(b)),
            "null" => Always<JsonNode?>(null),
            _ => StringGen(schema),
        }).ToList();
        // Now and then a value of the wrong type altogether.
        gens.Add(Gen.OneOf(IntegerGen, StringGen(default), Always<JsonNode?>(new JsonObject()), Always<JsonNode?>(new JsonArray())));
        return Mix([.. gens.Select((g, i) => (i == gens.Count - 1 ? 1 : 6, g))]);
    }

    private static List<string> TypesOf(JsonElement schema)
    {
        if (schema.TryGetProperty("type", out var type))
        {
            return type.ValueKind == JsonValueKind.Array ? [.. type.EnumerateArray().Select(t => t.GetString()!)] : [type.GetString()!];
        }
        return schema.TryGetProperty("properties", out _) ? ["object"] : schema.TryGetProperty("items", out _) ? ["array"] : ["string"];
    }

    private Gen<JsonNode?> ObjectGen(JsonElement schema, int depth)
    {
        var properties = schema.TryGetProperty("properties", out var p) ? p.EnumerateObject().ToList() : [];
        var required = schema.TryGetProperty("required", out var r) ? r.EnumerateArray().Select(x => x.GetString()!).ToHashSet() : [];
        var gens = properties.Select(property =>
            Mix(
                (required.Contains(property.Name) ? 9 : 5, ValueGen(property.Value, depth + 1).Select(v => (property.Name, value: v, present: true))),
                (required.Contains(property.Name) ? 1 : 5, Always((property.Name, value: (JsonNode?)null, present: false))))).ToList();
        var extra = Mix((9, Always<(string, JsonNode?, bool)?>(null)), (1, Word.Select(w => ((string, JsonNode?, bool)?)(w, JsonValue.Create(w), true))));
        return gens.Aggregate(Always(new List<(string, JsonNode?, bool)>()), (acc, g) => acc.Select(g, (list, item) => new List<(string, JsonNode?, bool)>(list) { item }))
            .Select(extra, (members, more) =>
            {
                var result = new JsonObject();
                foreach (var (name, value, present) in more is { } m ? [.. members, m] : members)
                {
                    if (present)
                    {
                        result[name] = value?.DeepClone();
                    }
                }
                return (JsonNode?)result;
            });
    }

    private Gen<JsonNode?> ArrayGen(JsonElement schema, int depth)
    {
        var item = schema.TryGetProperty("items", out var items) ? ValueGen(items, depth + 1) : Word.Select(w => (JsonNode?)JsonValue.Create(w));
        return item.List[0, 4].Select(list =>
        {
            var array = new JsonArray();
            foreach (var element in list)
            {
                array.Add(element?.DeepClone());
            }
            return (JsonNode?)array;
        });
    }

    private static readonly Gen<JsonNode?> IntegerGen = Mix(
        (5, Gen.Int[-2, 200].Select(i => (JsonNode?)JsonValue.Create(i))),
        (1, Pick<JsonNode?>(JsonValue.Create(int.MaxValue), JsonValue.Create(int.MinValue), JsonValue.Create(long.MaxValue), JsonValue.Create(0), JsonValue.Create(HugeNumber))));

    private static readonly Gen<JsonNode?> NumberGen = Mix(
        (5, Gen.Double[-10, 1000].Select(d => (JsonNode?)JsonValue.Create(Math.Round(d, 3)))),
        (1, Pick<JsonNode?>(JsonValue.Create(9999999999m), JsonValue.Create(0.000000001m), JsonValue.Create(1e30), JsonValue.Create(-1m),
            JsonValue.Create(99999999.999999m), JsonValue.Create(HugeNumber))));

    private static Gen<JsonNode?> StringGen(JsonElement schema)
    {
        var format = schema.ValueKind == JsonValueKind.Object && schema.TryGetProperty("format", out var f) ? f.GetString() : null;
        var typed = format switch
        {
            "uuid" => Gen.Guid.Select(g => g.ToString()),
            "date-time" => Gen.DateTimeOffset.Select(d => d.ToString("O", CultureInfo.InvariantCulture)),
            "email" => Pick("a@b.co", "root@aiprompts.test", "not-an-email"),
            _ => Word,
        };
        return Mix((5, typed), (1, Hostile)).Select(s => (JsonNode?)JsonValue.Create(s));
    }

    /// <summary>A query or path value for a parameter's schema, as text.</summary>
    private static Gen<string> ScalarText(JsonElement schema)
    {
        var types = schema.ValueKind == JsonValueKind.Object ? TypesOf(schema) : ["string"];
        var format = schema.ValueKind == JsonValueKind.Object && schema.TryGetProperty("format", out var f) ? f.GetString() : null;
        Gen<string> typed = format switch
        {
            "uuid" => Gen.Guid.Select(g => g.ToString()),
            "date-time" => Gen.DateTimeOffset.Select(d => d.ToString("O", CultureInfo.InvariantCulture)),
            _ when types.Contains("integer") => Mix((5, Gen.Int[-2, 200].Select(i => i.ToString(CultureInfo.InvariantCulture))), (1, Pick("99999999999", "abc", "1.5", "-0"))),
            _ when types.Contains("boolean") => Pick("true", "false", "x", "1"),
            _ => Word,
        };
        return Mix((5, typed), (1, Hostile), (1, Pick("AAAA", "bad", new string('9', 40))));
    }

    private static string Escape(string value) => Uri.EscapeDataString(value.Replace(LoneSurrogate, "\udc00", StringComparison.Ordinal)
        .Replace(HugeNumber, "1e400", StringComparison.Ordinal).Replace("\udc00", "\uFFFD", StringComparison.Ordinal));

    /// <summary>JSON text, with the markers turned into what a serializer cannot write: a lone surrogate escape and an out-of-range number.</summary>
    private static string Serialize(JsonNode? node) =>
        (node?.ToJsonString(new JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }) ?? "null")
            .Replace("\"\\u0001HUGE\\u0001\"", "1e400", StringComparison.Ordinal)
            .Replace("\\u0001LONE\\u0001", "\\udc00", StringComparison.Ordinal);
}
