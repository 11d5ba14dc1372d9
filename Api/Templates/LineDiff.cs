using System.Text;

namespace AiPrompts.Api.Templates;

/// <summary>
/// A line diff: the common head and tail are matched directly, the middle by longest common subsequence.
/// A middle too large for that (more than <see cref="MaxCells"/> line pairs) is shown as deleted then inserted.
/// </summary>
internal static class LineDiff
{
    private const long MaxCells = 4_000_000;

    public static IReadOnlyList<DiffLine> Compute(string before, string after)
    {
        var a = Lines(before);
        var b = Lines(after);
        var head = 0;
        while (head < a.Length && head < b.Length && a[head] == b[head])
        {
            head++;
        }
        var tail = 0;
        while (tail < a.Length - head && tail < b.Length - head && a[^(tail + 1)] == b[^(tail + 1)])
        {
            tail++;
        }
        var result = new List<DiffLine>(a.Length + b.Length);
        result.AddRange(a[..head].Select(l => new DiffLine("equal", l)));
        var midA = a[head..(a.Length - tail)];
        var midB = b[head..(b.Length - tail)];
        if ((long)midA.Length * midB.Length > MaxCells)
        {
            result.AddRange(midA.Select(l => new DiffLine("delete", l)));
            result.AddRange(midB.Select(l => new DiffLine("insert", l)));
        }
        else
        {
            result.AddRange(Middle(midA, midB));
        }
        result.AddRange(a[(a.Length - tail)..].Select(l => new DiffLine("equal", l)));
        return result;
    }

    private static List<DiffLine> Middle(string[] a, string[] b)
    {
        // lcs[i, j]: the longest common subsequence of a[i..] and b[j..].
        var lcs = new int[a.Length + 1, b.Length + 1];
        for (var i = a.Length - 1; i >= 0; i--)
        {
            for (var j = b.Length - 1; j >= 0; j--)
            {
                lcs[i, j] = a[i] == b[j] ? lcs[i + 1, j + 1] + 1 : Math.Max(lcs[i + 1, j], lcs[i, j + 1]);
            }
        }
        var lines = new List<DiffLine>(a.Length + b.Length);
        int x = 0, y = 0;
        while (x < a.Length && y < b.Length)
        {
            if (a[x] == b[y])
            {
                lines.Add(new DiffLine("equal", a[x++]));
                y++;
            }
            else if (lcs[x + 1, y] >= lcs[x, y + 1])
            {
                lines.Add(new DiffLine("delete", a[x++]));
            }
            else
            {
                lines.Add(new DiffLine("insert", b[y++]));
            }
        }
        lines.AddRange(a[x..].Select(l => new DiffLine("delete", l)));
        lines.AddRange(b[y..].Select(l => new DiffLine("insert", l)));
        return lines;
    }

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

    private static string[] Lines(string text) => text.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n');
}
