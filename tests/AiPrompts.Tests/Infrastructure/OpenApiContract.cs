using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using AiPrompts.Core.Templates;
using YamlDotNet.RepresentationModel;

namespace AiPrompts.Tests.Infrastructure;

/// <summary>
/// The user's OpenAPI contract (the repository's contracts/ folder), read from its YAML as it stands, so a test checks
/// responses against the very schemas and status codes clients were written against.
/// </summary>
public sealed class OpenApiContract
{
    private readonly JsonElement _root;

    private OpenApiContract(JsonElement root) => _root = root;

    public static OpenApiContract Load(string fileName)
    {
        var path = Find(fileName);
        var yaml = new YamlStream();
        using (var reader = new StreamReader(path))
        {
            yaml.Load(reader);
        }
        var json = ToJson(yaml.Documents[0].RootNode)!;
        return new OpenApiContract(JsonDocument.Parse(json.ToJsonString()).RootElement.Clone());
    }

    /// <summary>Every (path, method, operationId) the contract declares.</summary>
    public IReadOnlyList<(string Path, string Method, string OperationId)> Operations =>
        [.. _root.GetProperty("paths").EnumerateObject().SelectMany(p => p.Value.EnumerateObject()
            .Select(m => (p.Name, m.Name.ToUpperInvariant(), m.Value.GetProperty("operationId").GetString()!)))];

    public JsonElement Operation(string operationId) =>
        _root.GetProperty("paths").EnumerateObject().SelectMany(p => p.Value.EnumerateObject()).Select(m => m.Value)
            .Single(o => o.GetProperty("operationId").GetString() == operationId);

    /// <summary>The example body of one of an operation's responses (e.g. the Thai 400).</summary>
    public JsonElement Example(string operationId, int status) =>
        Operation(operationId).GetProperty("responses").GetProperty(status.ToString(CultureInfo.InvariantCulture))
            .GetProperty("content").GetProperty("application/json").GetProperty("example");

    /// <summary>
    /// Asserts the response's status is one the operation declares (401 is implied by its bearer
    /// security) and, when the contract gives a schema for it, that the body satisfies that schema.
    /// </summary>
    public async Task<JsonElement?> CheckAsync(string operationId, HttpResponseMessage response)
    {
        var status = (int)response.StatusCode;
        var body = await response.Content.ReadAsStringAsync();
        var responses = Operation(operationId).GetProperty("responses");
        var declared = responses.EnumerateObject().Select(r => r.Name).ToList();
        if (status == (int)HttpStatusCode.Unauthorized && Operation(operationId).TryGetProperty("security", out _))
        {
            return body.Length == 0 ? null : JsonDocument.Parse(body).RootElement.Clone();
        }
        Assert.True(declared.Contains(status.ToString(CultureInfo.InvariantCulture)),
            $"{operationId} answered {status}, which the contract does not declare ({string.Join(", ", declared)}): {body}");
        var spec = Resolve(responses.GetProperty(status.ToString(CultureInfo.InvariantCulture)));
        if (!spec.TryGetProperty("content", out var content))
        {
            Assert.True(body.Length == 0, $"{operationId} {status} should have no body: {body}");
            return null;
        }
        var schema = content.GetProperty("application/json").GetProperty("schema");
        Assert.StartsWith("application/", response.Content.Headers.ContentType?.MediaType ?? "");
        Assert.EndsWith("json", response.Content.Headers.ContentType?.MediaType ?? "");
        var instance = JsonDocument.Parse(body).RootElement.Clone();
        var errors = JsonSchemaValidator.Validate(Compile(schema), instance);
        Assert.True(errors.Count == 0, $"{operationId} {status} does not match the contract's schema: {string.Join("; ", errors)}\n{body}");
        return instance;
    }

    /// <summary>A schema of the contract by name, with its references resolvable against the document.</summary>
    public IReadOnlyList<string> Validate(string schemaName, JsonElement instance) =>
        JsonSchemaValidator.Validate(Compile(_root.GetProperty("components").GetProperty("schemas").GetProperty(schemaName)), instance);

    /// <summary>A schema of the document as a JSON Schema 2020-12 document, the document's components as its $defs.</summary>
    private Json.Schema.JsonSchema Compile(JsonElement schema)
    {
        static string Rewrite(string json) => json.Replace("#/components/schemas/", "#/$defs/", StringComparison.Ordinal);
        var root = JsonNode.Parse(Rewrite(schema.GetRawText()))!.AsObject();
        root["$schema"] = "https://json-schema.org/draft/2020-12/schema";
        root["$defs"] = JsonNode.Parse(Rewrite(_root.GetProperty("components").GetProperty("schemas").GetRawText()));
        return JsonSchemaValidator.Compile(root);
    }

    private JsonElement Resolve(JsonElement element)
    {
        while (element.TryGetProperty("$ref", out var reference))
        {
            element = reference.GetString()!.TrimStart('#', '/').Split('/').Aggregate(_root, (current, part) => current.GetProperty(part));
        }
        return element;
    }

    /// <summary>The repository's contracts/ folder, copied beside the test assembly by the build.</summary>
    private static string Find(string fileName)
    {
        var path = Path.Combine(AppContext.BaseDirectory, "contracts", fileName);
        return File.Exists(path) ? path : throw new FileNotFoundException($"The contract {fileName} was not found in {Path.GetDirectoryName(path)}.");
    }

    /// <summary>YAML to JSON as YAML 1.2's core schema reads plain scalars: true/false, null, integers and floats; quoted scalars are strings.</summary>
    private static JsonNode? ToJson(YamlNode node) => node switch
    {
        YamlMappingNode map => new JsonObject(map.Children.Select(kv => KeyValuePair.Create(((YamlScalarNode)kv.Key).Value!, ToJson(kv.Value)))),
        YamlSequenceNode list => new JsonArray([.. list.Children.Select(ToJson)]),
        YamlScalarNode { Style: YamlDotNet.Core.ScalarStyle.Plain } scalar => Plain(scalar.Value ?? ""),
        YamlScalarNode scalar => JsonValue.Create(scalar.Value),
        _ => throw new NotSupportedException(node.GetType().Name),
    };

    private static JsonValue? Plain(string text) => text switch
    {
        "true" => JsonValue.Create(true),
        "false" => JsonValue.Create(false),
        "null" or "~" or "" => null,
        _ when long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var integer) => JsonValue.Create(integer),
        _ when double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) => JsonValue.Create(number),
        _ => JsonValue.Create(text),
    };
}
