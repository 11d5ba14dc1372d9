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
    [InlineData("""{"name": "ab", "total": "1"}""", "$.total: expected number or null, got string")]
    [InlineData("""{"name": "ab", "total": -1}""", "$.total: must be at least 0")]
    [InlineData("""{"name": "a", "total": 1}""", "$.name: at least 2 characters")]
    [InlineData("""{"name": "abcdef", "total": 1}""", "$.name: at most 5 characters")]
    [InlineData("""{"name": "ab", "total": 1, "count": 1.5}""", "$.count: expected integer, got number")]
    [InlineData("""{"name": "ab", "total": 1, "when": "yesterday"}""", "$.when: is not a date-time")]
    [InlineData("""{"name": "ab", "total": 1, "tags": ["c"]}""", "$.tags[0]: must be one of \"a\", \"b\"")]
    [InlineData("""{"name": "ab", "total": 1, "tags": ["a", "a", "b"]}""", "$.tags: at most 2 items")]
    [InlineData("""{"name": "ab", "total": 1, "note": "x"}""", "$.note: does not match ^n")]
    [InlineData("""{"name": "ab", "total": 1, "other": 1}""", "$.other: is not allowed")]
    [InlineData("""[1]""", "$: expected object, got array")]
    public void Each_violation_is_reported_with_its_path(string instance, string expected)
    {
        Assert.Contains(expected, JsonSchemaValidator.Validate(J(Schema), J(instance)));
    }

    [Fact]
    public void A_schema_with_a_keyword_the_validator_does_not_enforce_is_refused()
    {
        Assert.Empty(JsonSchemaValidator.CheckSchema(J(Schema)));
        Assert.Contains("#/properties/a/oneOf: the keyword 'oneOf' is not supported", JsonSchemaValidator.CheckSchema(J("""{"properties": {"a": {"oneOf": []}}}""")));
        Assert.Contains("#/type: must be one of object, array, string, number, integer, boolean, null, or a list of them", JsonSchemaValidator.CheckSchema(J("""{"type": "map"}""")));
        Assert.NotEmpty(JsonSchemaValidator.CheckSchema(J("""{"pattern": "("}""")));
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
