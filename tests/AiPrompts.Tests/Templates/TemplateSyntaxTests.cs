using System.Text.Json;
using AiPrompts.Core.Templates;

namespace AiPrompts.Tests.Templates;

public sealed class TemplateSyntaxTests
{
    [Fact]
    public void Placeholders_are_found_with_optional_spaces_and_single_braces_are_plain_text()
    {
        var (placeholders, error) = TemplateSyntax.Parse("Read {{ocr_text}} and {{ language }} as {\"a\": {\"b\": 1}}");
        Assert.Null(error);
        Assert.Equal(["ocr_text", "language"], placeholders.Select(p => p.Name));
        Assert.Equal(5, placeholders[0].Index);
    }

    [Theory]
    [InlineData("{{ocr_text", 0)]
    [InlineData("a {{ocr_text {{b}}", 2)]
    [InlineData("x {{}}", 2)]
    [InlineData("x {{1abc}}", 2)]
    [InlineData("x {{a-b}}", 2)]
    [InlineData("x {{{ocr_text}}}", 2)]
    public void Unbalanced_or_malformed_placeholders_are_errors_at_their_position(string template, int position)
    {
        var (_, error) = TemplateSyntax.Parse(template);
        Assert.NotNull(error);
        Assert.Equal(position, error.Index);
    }

    [Fact]
    public void Rendering_fills_every_placeholder_once_and_never_expands_a_value_again()
    {
        var result = TemplateSyntax.Render("A {{x}} B {{ y }} C {{x}}", new Dictionary<string, string> { ["x"] = "{{y}}", ["y"] = "2" });
        Assert.True(result.Succeeded);
        Assert.Equal("A {{y}} B 2 C {{y}}", result.Text);
    }

    [Fact]
    public void Rendering_is_strict_a_missing_or_an_extra_variable_is_an_error_never_an_empty_string()
    {
        var missing = TemplateSyntax.Render("{{a}} {{b}}", new Dictionary<string, string> { ["a"] = "1" });
        Assert.False(missing.Succeeded);
        Assert.Null(missing.Text);
        Assert.Equal(["b"], missing.Missing);

        var extra = TemplateSyntax.Render("{{a}}", new Dictionary<string, string> { ["a"] = "1", ["z"] = "2" });
        Assert.False(extra.Succeeded);
        Assert.Equal(["z"], extra.Extra);

        var empty = TemplateSyntax.Render("{{a}}", new Dictionary<string, string> { ["a"] = "" });
        Assert.Equal("", empty.Text);
    }

    [Fact]
    public void Template_rules_report_syntax_then_unknown_then_missing_placeholders()
    {
        Assert.Null(TemplateRules.Check("{{ocr_text}} {{language}}", ["ocr_text"], ["ocr_text", "language"]));
        Assert.Equal("template_syntax_invalid", TemplateRules.Check("{{nope {{ocr_text}}", ["ocr_text"], ["ocr_text"])!.Code.Code);
        var unknown = TemplateRules.Check("{{ocr_text}} {{secret}}", ["ocr_text"], ["ocr_text"])!;
        Assert.Equal("template_placeholder_unknown", unknown.Code.Code);
        Assert.Equal("{{secret}}", unknown.Args["placeholder"]);
        var missing = TemplateRules.Check("nothing", ["ocr_text"], ["ocr_text"])!;
        Assert.Equal("template_placeholder_missing", missing.Code.Code);
        Assert.Equal("{{ocr_text}}", missing.Args["placeholder"]);
    }
}

public sealed class JsonSchemaValidatorTests
{
    private static JsonElement J(string json) => JsonDocument.Parse(json).RootElement.Clone();

    private const string Schema = """
        {"type": "object", "additionalProperties": false, "required": ["name", "total"],
         "properties": {
           "name": {"type": "string", "minLength": 2, "maxLength": 5},
           "total": {"type": ["number", "null"], "minimum": 0},
           "count": {"type": "integer"},
           "when": {"type": "string", "format": "date-time"},
           "tags": {"type": "array", "items": {"enum": ["a", "b"]}, "maxItems": 2},
           "note": {"type": "string", "nullable": true, "pattern": "^n"}
         }}
        """;

    [Fact]
    public void A_valid_document_has_no_errors()
    {
        Assert.Empty(JsonSchemaValidator.Validate(J(Schema), J("""{"name": "ab", "total": null, "count": 3, "when": "2026-01-02T03:04:05Z", "tags": ["a"], "note": null}""")));
    }

    [Theory]
    [InlineData("""{"total": 1}""", "$.name: is required")]
    [InlineData("""{"name": "ab", "total": "1"}""", "$.total: expected \"number, null\", got \"string\"")]
    [InlineData("""{"name": "ab", "total": -1}""", "$.total: must be at least 0")]
    [InlineData("""{"name": "a", "total": 1}""", "$.name: at least 2 characters")]
    [InlineData("""{"name": "abcdef", "total": 1}""", "$.name: at most 5 characters")]
    [InlineData("""{"name": "ab", "total": 1, "count": 1.5}""", "$.count: expected \"integer\", got \"number\"")]
    [InlineData("""{"name": "ab", "total": 1, "when": "yesterday"}""", "$.when: is not a \"date-time\"")]
    [InlineData("""{"name": "ab", "total": 1, "tags": ["c"]}""", "$.tags[0]: must be one of [\"a\",\"b\"]")]
    [InlineData("""{"name": "ab", "total": 1, "tags": ["a", "a", "b"]}""", "$.tags: at most 2 items")]
    [InlineData("""{"name": "ab", "total": 1, "note": "x"}""", "$.note: does not match \"^n\"")]
    [InlineData("""{"name": "ab", "total": 1, "other": 1}""", "$.other: is not allowed")]
    [InlineData("""[1]""", "$: expected \"object\", got \"array\"")]
    public void Each_violation_is_reported_with_its_path(string instance, string expected)
    {
        Assert.Contains(expected, JsonSchemaValidator.Validate(J(Schema), J(instance)));
    }

    [Fact]
    public void Any_2020_12_keyword_is_enforced()
    {
        const string Choice = """
            {"type": "object", "required": ["kind"],
             "properties": {"kind": {"enum": ["card", "cash"]}, "last4": {"type": "string", "pattern": "^[0-9]{4}$"}},
             "if": {"properties": {"kind": {"const": "card"}}}, "then": {"required": ["last4"]},
             "oneOf": [{"properties": {"tip": {"type": "number"}}}, {"properties": {"tip": {"type": "null"}}, "required": ["tip"]}],
             "$defs": {"amount": {"type": "number", "exclusiveMinimum": 0}},
             "dependentRequired": {"tip": ["kind"]}, "unevaluatedProperties": false, "patternProperties": {"^x-": true}}
            """;
        Assert.Empty(JsonSchemaValidator.Validate(J(Choice), J("""{"kind": "cash", "x-note": 1}""")));
        Assert.Contains("$.last4: is required", JsonSchemaValidator.Validate(J(Choice), J("""{"kind": "card"}""")));
        Assert.Contains("$.other: is not allowed", JsonSchemaValidator.Validate(J(Choice), J("""{"kind": "cash", "other": 1}""")));
        Assert.Equal(["$: does not match the schema"], JsonSchemaValidator.Validate(J("""{"oneOf": [{"type": "number"}, {"minimum": 0}]}"""), J("5")));
        // A choice that failed beside one that passed is not reported.
        Assert.Equal(["$.n: expected \"string\", got \"integer\""], JsonSchemaValidator.Validate(J("""{"properties": {"tip": {"oneOf": [{"type": "number"}, {"type": "null"}]}, "n": {"type": "string"}}}"""), J("""{"tip": null, "n": 1}""")));
        Assert.Contains("$: must be more than 0", JsonSchemaValidator.Validate(J("""{"$ref": "#/$defs/amount", "$defs": {"amount": {"type": "number", "exclusiveMinimum": 0}}}"""), J("0")));
    }

    [Fact]
    public void A_schema_is_checked_against_the_2020_12_meta_schema_and_unknown_keywords_are_refused()
    {
        Assert.Empty(JsonSchemaValidator.CheckSchema(J(Schema))); // OpenAPI 3.0's nullable is understood
        Assert.Empty(JsonSchemaValidator.CheckSchema(J("""{"properties": {"a": {"oneOf": [{"type": "string"}, {"type": "null"}]}}}""")));
        Assert.Contains("#/properties/a/oneOf: at least 1 items", JsonSchemaValidator.CheckSchema(J("""{"properties": {"a": {"oneOf": []}}}""")));
        Assert.NotEmpty(JsonSchemaValidator.CheckSchema(J("""{"type": "map"}""")));
        Assert.NotEmpty(JsonSchemaValidator.CheckSchema(J("""{"pattern": "("}""")));
        Assert.Contains(JsonSchemaValidator.CheckSchema(J("""{"type": "string", "minLenght": 3}""")), p => p.Contains("minLenght", StringComparison.Ordinal));
        Assert.Contains(JsonSchemaValidator.CheckSchema(J("""{"$ref": "#/$defs/nowhere"}""")), p => p.StartsWith("#: the schema cannot be used", StringComparison.Ordinal));
    }

    [Fact]
    public void A_sandbox_output_is_judged_against_the_schema_fences_removed()
    {
        var ok = SandboxOutput.Judge("```json\n{\"name\": \"ab\", \"total\": 2}\n```", Schema);
        Assert.True(ok.Valid);
        Assert.Equal("""{"name": "ab", "total": 2}""", ok.Json);

        var notJson = SandboxOutput.Judge("Sorry, I cannot read that.", Schema);
        Assert.False(notJson.Valid);
        Assert.Equal(["$: the output is not JSON"], notJson.Errors);

        var wrong = SandboxOutput.Judge("""{"name": "ab"}""", Schema);
        Assert.False(wrong.Valid);
        Assert.Contains("$.total: is required", wrong.Errors);

        var free = SandboxOutput.Judge("plain text", null);
        Assert.True(free.Valid);
        Assert.Equal("""{"text":"plain text"}""", free.Json);
    }
}
