namespace AiPrompts.AppHost.Tests;

/// <summary>Removes an executables-mode data folder (AppHost:DataDirectory) after a test. Also compiled into the console's tests.</summary>
public static class AppHostDataFolder
{
    /// <summary>
    /// The folder, and the cluster folder in /tmp the launcher used when the postgres account could not reach it.
    /// DCP may still be stopping the servers for a moment, so a folder that changes under us is tried again.
    /// </summary>
    public static void Remove(string data)
    {
        var location = Path.Combine(data, "postgres", "pg.location");
        var folders = new List<string>();
        if (File.Exists(location) && File.ReadAllText(location).Trim() is { Length: > 0 } elsewhere && elsewhere.StartsWith("/tmp/", StringComparison.Ordinal))
        {
            folders.Add(elsewhere);
        }
        folders.Add(data);
        foreach (var folder in folders)
        {
            for (var attempt = 1; Directory.Exists(folder); attempt++)
            {
                try
                {
                    Directory.Delete(folder, recursive: true);
                }
                catch (IOException) when (attempt < 20)
                {
                    Thread.Sleep(500);
                }
            }
        }
    }
}
