using System.Text;
using DiffPlex.DiffBuilder;
using DiffPlex.DiffBuilder.Model;

namespace AiPrompts.Api.Templates;

/// <summary>
/// A line diff of two versions, by DiffPlex (Myers' algorithm), with whitespace significant: a template's spacing is part
/// of the prompt, and DiffPlex's builder ignores whitespace unless told not to.
/// </summary>
internal static class LineDiff
{
    public static IReadOnlyList<DiffLine> Compute(string before, string after) =>
        [.. InlineDiffBuilder.Diff(Normalize(before), Normalize(after), ignoreWhiteSpace: false, ignoreCase: false).Lines
            .Select(line => new DiffLine(line.Type switch { ChangeType.Deleted => "delete", ChangeType.Inserted => "insert", _ => "equal" }, line.Text))];

    /// <summary>The whole diff in unified form (one hunk, every line), as <c>diff -U</c> readers expect.</summary>
    public static string Unified(IReadOnlyList<DiffLine> lines, string fromName, string toName)
    {
        var text = new StringBuilder().Append("--- ").Append(fromName).Append('\n').Append("+++ ").Append(toName).Append('\n');
        var fromCount = lines.Count(l => l.Op != "insert");
        var toCount = lines.Count(l => l.Op != "delete");
        text.Append("@@ -").Append(fromCount == 0 ? 0 : 1).Append(',').Append(fromCount)
            .Append(" +").Append(toCount == 0 ? 0 : 1).Append(',').Append(toCount).Append(" @@\n");
        foreach (var line in lines)
        {
            text.Append(line.Op switch { "delete" => '-', "insert" => '+', _ => ' ' }).Append(line.Text).Append('\n');
        }
        return text.ToString();
    }

    private static string Normalize(string text) => text.Replace("\r\n", "\n", StringComparison.Ordinal);
}
