namespace Dls.Samples.Tests;

/// <summary>
/// Packs the four libraries once, under a version unique to this test run, into a local folder feed. The unique
/// version keeps the NuGet cache from serving an older build of the same version; <see cref="Dispose"/> removes
/// this version from the cache again.
/// </summary>
public sealed class PackagedLibrariesFixture : IDisposable
{
    public PackagedLibrariesFixture()
    {
        Work = Path.Combine(Path.GetTempPath(), "dls-pack-" + Guid.NewGuid().ToString("N"));
        Feed = Path.Combine(Work, "feed");
        Version = "0.1.0-test." + Guid.NewGuid().ToString("N")[..12];
        // --artifacts-path keeps this build's bin/obj apart from the solution's own Release build.
        (PackExitCode, PackOutput) = DotnetCli.Run(RepoPaths.Root, TimeSpan.FromMinutes(8),
            "pack", "Dls.sln", "-c", "Release", "-o", Feed, "--artifacts-path", Path.Combine(Work, "artifacts"), "-p:Version=" + Version);
    }

    public string Work { get; }

    public string Feed { get; }

    public string Version { get; }

    public int PackExitCode { get; }

    public string PackOutput { get; }

    public void Dispose()
    {
        var (code, output) = DotnetCli.Run(Path.GetTempPath(), TimeSpan.FromMinutes(1), "nuget", "locals", "global-packages", "--list");
        if (code == 0)
        {
            string cache = output.Trim().Split(':', 2)[1].Trim();
            foreach (string id in new[] { "dls.audio", "dls.compression", "dls.models", "dls.speaker" })
            {
                string restored = Path.Combine(cache, id, Version.ToLowerInvariant());
                if (Directory.Exists(restored))
                {
                    Directory.Delete(restored, recursive: true);
                }
            }
        }

        if (Directory.Exists(Work))
        {
            Directory.Delete(Work, recursive: true);
        }
    }
}
