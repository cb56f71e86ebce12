using System.Text.Json.Nodes;
using Dls.Samples.Abstractions;

namespace Dls.Samples.Tests;

public sealed class ResultsWriterTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "dls-results-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dir))
        {
            Directory.Delete(_dir, recursive: true);
        }
    }

    [Fact]
    public void MergeJson_TwoTasks_KeepsBothSetsOfKeys()
    {
        var writer = new ResultsWriter(_dir);
        writer.MergeJson("mnist", new JsonObject { ["baseline_params"] = 5012490, ["shared"] = 1 });
        writer.MergeJson("mnist", new JsonObject { ["lowrank20_params"] = 215370, ["shared"] = 2 });
        var merged = JsonNode.Parse(File.ReadAllText(Path.Combine(_dir, "mnist.json")))!.AsObject();
        Assert.Equal(5012490, (int)merged["baseline_params"]!);
        Assert.Equal(215370, (int)merged["lowrank20_params"]!);
        Assert.Equal(2, (int)merged["shared"]!);
        Assert.Empty(Directory.GetFiles(_dir, "*.tmp", SearchOption.AllDirectories));
    }

    [Theory]
    [InlineData(null, null)]                        // no file yet: fine
    [InlineData("{\"a\": 1}", null)]                // an object: fine
    [InlineData("[1, 2]", "found Array")]
    [InlineData("{\"a\": ", "found invalid JSON")]
    public void CheckMergeable_ExistingFile_PassesOnlyForAnObject(string? content, string? expected)
    {
        Directory.CreateDirectory(_dir);
        if (content is not null) File.WriteAllText(Path.Combine(_dir, "r.json"), content);
        var writer = new ResultsWriter(_dir);

        if (expected is null)
        {
            writer.CheckMergeable("r");
            return;
        }

        var e = Assert.Throws<InvalidDataException>(() => writer.CheckMergeable("r"));
        Assert.Contains($"Cannot merge results into '{Path.Combine(_dir, "r.json")}': expected a JSON object, {expected}", e.Message);
    }

    [Fact]
    public void MergeJson_CorruptExistingFile_ThrowsAndLeavesItUntouched()
    {
        Directory.CreateDirectory(_dir);
        string path = Path.Combine(_dir, "broken.json");
        File.WriteAllText(path, "[1, 2");
        var writer = new ResultsWriter(_dir);
        var e = Assert.Throws<InvalidDataException>(() => writer.MergeJson("broken", new JsonObject { ["a"] = 1 }));
        Assert.Contains("expected a JSON object", e.Message);
        Assert.Equal("[1, 2", File.ReadAllText(path));
    }

    [Fact]
    public void PathFor_PathWithFolder_IsRejected()
    {
        var writer = new ResultsWriter(_dir);
        Assert.Throws<ArgumentException>(() => writer.PathFor("../escape.png"));
    }

    [Fact]
    public void Lines_WritesAPng()
    {
        string path = Path.Combine(_dir, "curve.png");
        Plots.Lines(path, "loss", "epoch", "loss", [new PlotSeries("train", [1, 2, 3], [0.9, 0.5, 0.3])]);
        byte[] head = File.ReadAllBytes(path)[..8];
        // The PNG signature: \x89 P N G \r \n \x1a \n.
        Assert.Equal(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }, head);
    }
}
