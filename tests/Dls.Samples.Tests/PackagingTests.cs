using System.IO.Compression;
using System.Xml.Linq;

namespace Dls.Samples.Tests;

public sealed class PackagingTests(PackagedLibrariesFixture packages) : IClassFixture<PackagedLibrariesFixture>
{
    private static readonly string[] Libraries = ["Dls.Audio", "Dls.Compression", "Dls.Models", "Dls.Speaker"];

    [Fact]
    public void Pack_Solution_YieldsFourPackagesWithSymbolsRepositoryAndManagedTorchSharpOnly()
    {
        Assert.True(packages.PackExitCode == 0, "dotnet pack failed:\n" + packages.PackOutput);
        foreach (string library in Libraries)
        {
            string nupkg = Path.Combine(packages.Feed, $"{library}.{packages.Version}.nupkg");
            Assert.True(File.Exists(nupkg), $"expected {nupkg}");
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
            // Build-time tools (the public API analyzer, SourceLink) are PrivateAssets: a consumer must not inherit them.
            Assert.DoesNotContain(dependencies, d => d.StartsWith("Microsoft.CodeAnalysis", StringComparison.OrdinalIgnoreCase)
                || d.StartsWith("Microsoft.SourceLink", StringComparison.OrdinalIgnoreCase));

            var entries = zip.Entries.Select(e => e.FullName).ToList();
            Assert.Contains("README.md", entries);
            Assert.Contains($"lib/net10.0/{library}.xml", entries);
            Assert.Contains($"buildTransitive/{library}.targets", entries);
            Assert.DoesNotContain(entries, e => e.Contains("PublicAPI.", StringComparison.Ordinal));
        }
    }
}
