using System.Diagnostics;
using System.Xml.Linq;

namespace AiPrompts.Deploy.Tests;

/// <summary>The repository these tests run from, and the programs they run.</summary>
internal static class Repository
{
    public static string Root { get; } = FindRoot();

    public static string PathOf(params string[] parts) => Path.Combine([Root, .. parts]);

    /// <summary>A property of a project file (its first occurrence), or of a props file it imports.</summary>
    public static string ProjectProperty(string file, string name) =>
        XDocument.Load(PathOf(file)).Descendants(name).Select(e => e.Value).FirstOrDefault()
        ?? throw new InvalidOperationException($"{file} sets no {name}.");

    /// <summary>The Include of each item of a kind in a project or props file.</summary>
    public static IReadOnlyList<string> ProjectItems(string file, string item) =>
        [.. XDocument.Load(PathOf(file)).Descendants(item).Select(e => (string?)e.Attribute("Include") ?? "")];

    /// <summary>Copies a folder of the repository (without git-ignored secrets) into a new temporary folder.</summary>
    public static string CopyToTemporary(string folder, string prefix)
    {
        var target = Directory.CreateTempSubdirectory(prefix).FullName;
        var source = PathOf(folder);
        foreach (var file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(source, file);
            if (relative.Split(Path.DirectorySeparatorChar).Contains("secrets") || Path.GetFileName(file) == ".env")
            {
                continue;
            }
            var destination = Path.Combine(target, relative);
            Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
            File.Copy(file, destination);
        }
        return target;
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Aspire.sln")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException("Aspire.sln not found above " + AppContext.BaseDirectory);
    }
}

/// <summary>What a program printed and how it ended.</summary>
internal sealed record ProgramResult(int ExitCode, string Output, string Error)
{
    public ProgramResult EnsureSuccess(string what) =>
        ExitCode == 0 ? this : throw new InvalidOperationException($"{what} failed ({ExitCode}): {Error.Trim()} {Output.Trim()}");
}

internal static class Programs
{
    /// <summary>Runs a program to its end (arguments passed as they are, no shell) and collects what it printed.</summary>
    public static async Task<ProgramResult> RunAsync(
        string program, IEnumerable<string> arguments, CancellationToken cancellationToken,
        string? workingDirectory = null, IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Repository.Root,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{program} did not start.");
        var output = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var error = process.StandardError.ReadToEndAsync(cancellationToken);
        try
        {
            await process.WaitForExitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }
        return new ProgramResult(process.ExitCode, await output, await error);
    }
}
