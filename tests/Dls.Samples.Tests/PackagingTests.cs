using System.IO.Compression;
using System.Xml.Linq;

namespace Dls.Samples.Tests;

public sealed class PackagingTests : IDisposable
{
    private static readonly string[] Libraries = ["Dls.Audio", "Dls.Compression", "Dls.Models", "Dls.Speaker"];
    private readonly string _work = Path.Combine(Path.GetTempPath(), "dls-pack-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_work))
        {
            Directory.Delete(_work, recursive: true);
        }
    }

    [Fact]
    public void Pack_Solution_YieldsFourPackagesWithSymbolsRepositoryAndManagedTorchSharpOnly()
    {
        string feed = Path.Combine(_work, "feed");
        // --artifacts-path keeps this build's bin/obj apart from the solution's own Release build.
        var (code, output) = DotnetCli.Run(RepoPaths.Root, TimeSpan.FromMinutes(8),
            "pack", "Dls.sln", "-c", "Release", "-o", feed, "--artifacts-path", Path.Combine(_work, "artifacts"));
        Assert.True(code == 0, "dotnet pack failed:\n" + output);

        foreach (string library in Libraries)
        {
            string nupkg = Assert.Single(Directory.GetFiles(feed, library + ".*.nupkg"),
                f => Path.GetFileName(f).StartsWith(library + ".0", StringComparison.Ordinal));
            Assert.True(File.Exists(Path.ChangeExtension(nupkg, ".snupkg")), $"expected a symbol package beside {nupkg}");

            using ZipArchive zip = ZipFile.OpenRead(nupkg);
            XDocument nuspec = XDocument.Load(zip.GetEntry(library + ".nuspec")!.Open());
            XNamespace ns = nuspec.Root!.Name.Namespace;
            XElement repository = nuspec.Descendants(ns + "repository").Single();
            Assert.StartsWith("https://", (string?)repository.Attribute("url"));
            Assert.Matches("^[0-9a-f]{40}$", (string?)repository.Attribute("commit") ?? "");

            var dependencies = nuspec.Descendants(ns + "dependency").Select(d => (string)d.Attribute("id")!).ToList();
            Assert.Contains("TorchSharp", dependencies);
            Assert.DoesNotContain(dependencies, d => d.Equals("TorchSharp-cpu", StringComparison.OrdinalIgnoreCase)
                || d.StartsWith("libtorch", StringComparison.OrdinalIgnoreCase));

            var entries = zip.Entries.Select(e => e.FullName).ToList();
            Assert.Contains("README.md", entries);
            Assert.Contains($"lib/net10.0/{library}.xml", entries);
            Assert.Contains($"buildTransitive/{library}.targets", entries);
        }
    }
}
