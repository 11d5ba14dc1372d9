using System.Text.RegularExpressions;
using AiPrompts.Core.Providers;
using Microsoft.Extensions.Configuration;

namespace AiPrompts.Core.PromptRequests;

/// <summary>A kind of prompt: its system instructions and the section whose model it uses by default.</summary>
public sealed record PromptType(string Name, string Instructions, string Section);

/// <summary>
/// The prompt types: text, code, report and data_analysis built in, and more (or changed ones) from
/// configuration: <c>PromptTypes:{name}:Instructions</c> and <c>PromptTypes:{name}:Section</c> (chat or content).
/// </summary>
public sealed partial class PromptTypes
{
    public const string Section = "PromptTypes";

    private static readonly PromptType[] BuiltIn =
    [
        new("text", "You are a helpful assistant. Answer clearly and concisely, in the language of the question.", Sections.Chat),
        new("code", "You are an expert software engineer. Answer with correct, working code in fenced blocks naming the language, then a short explanation.", Sections.Content),
        new("report", "Write a well-structured report: a title, a short summary, headed sections and a conclusion. Be factual and say what is uncertain.", Sections.Content),
        new("data_analysis", "You are a careful data analyst. State your assumptions, show the method, and give the findings with the numbers that support them.", Sections.Content),
    ];

    private readonly Dictionary<string, PromptType> _types;

    public PromptTypes(IConfiguration configuration)
    {
        _types = BuiltIn.ToDictionary(t => t.Name, StringComparer.Ordinal);
        foreach (var child in configuration.GetSection(Section).GetChildren())
        {
            if (!NamePattern().IsMatch(child.Key))
            {
                throw new InvalidOperationException($"Prompt type '{child.Key}' ({Section}): a name is 2 to 40 characters of a-z, 0-9 and _, starting with a letter.");
            }
            _types.TryGetValue(child.Key, out var existing);
            var section = child["Section"] ?? existing?.Section ?? Sections.Content;
            if (section is not (Sections.Chat or Sections.Content))
            {
                throw new InvalidOperationException($"Prompt type '{child.Key}' ({Section}): Section must be '{Sections.Chat}' or '{Sections.Content}', not '{section}'.");
            }
            var instructions = child["Instructions"] ?? existing?.Instructions
                ?? throw new InvalidOperationException($"Prompt type '{child.Key}' ({Section}): Instructions are required.");
            _types[child.Key] = new PromptType(child.Key, instructions, section);
        }
    }

    public IReadOnlyCollection<string> Names => _types.Keys;

    public PromptType? Find(string name) => _types.GetValueOrDefault(name);

    [GeneratedRegex("^[a-z][a-z0-9_]{1,39}$")]
    private static partial Regex NamePattern();
}
