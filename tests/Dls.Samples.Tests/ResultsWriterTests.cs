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
    [InlineData("null", "found null")]             // valid JSON, but no object to merge into
    [InlineData("\"text\"", "found String")]
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
    public void MergeJson_NullValue_WritesJsonNullAndReplacesTheEarlierValue()
    {
        // A figure that does not apply to this run (an oracle without noise files, say) is written as null, not left out:
        // the earlier run's value of that key must not survive beside this run's figures.
        var writer = new ResultsWriter(_dir);
        writer.MergeJson("r", new JsonObject { ["oracle"] = 3.5, ["kept"] = 1 });

        writer.MergeJson("r", new JsonObject { ["oracle"] = null });

        var merged = JsonNode.Parse(File.ReadAllText(Path.Combine(_dir, "r.json")))!.AsObject();
        Assert.True(merged.ContainsKey("oracle"));
        Assert.Null(merged["oracle"]);
        Assert.Equal(1, (int)merged["kept"]!);
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
    public void MergeJson_WithAlongsideFiles_WritesFiguresAndFilesTogether()
    {
        var writer = new ResultsWriter(_dir);
        string model = Path.Combine(_dir, "models", "m.bin");

        writer.MergeJson("r", new JsonObject { ["acc"] = 0.9 }, [(model, s => s.Write([1, 2, 3]))]);

        Assert.Equal(new byte[] { 1, 2, 3 }, File.ReadAllBytes(model));
        Assert.Equal(0.9, (double)JsonNode.Parse(File.ReadAllText(Path.Combine(_dir, "r.json")))!["acc"]!);
        Assert.Empty(Directory.GetFiles(_dir, "*.tmp", SearchOption.AllDirectories));
    }

    [Fact]
    public void MergeJson_AlongsideFileFailsToWrite_LeavesEarlierFiguresAndModelTogether()
    {
        var writer = new ResultsWriter(_dir);
        string model = Path.Combine(_dir, "m.bin");
        writer.MergeJson("r", new JsonObject { ["acc"] = 0.9 }, [(model, s => s.Write([1, 2, 3]))]);
        string figures = File.ReadAllText(Path.Combine(_dir, "r.json"));

        // The new model's bytes cannot be produced (a full disk, a failing read of the staged file): neither the model nor
        // the figures measured on it may replace the earlier pair.
        Assert.Throws<IOException>(() => writer.MergeJson("r", new JsonObject { ["acc"] = 0.95 },
            [(model, s => { s.Write([9]); throw new IOException("disk full"); })]));

        Assert.Equal(new byte[] { 1, 2, 3 }, File.ReadAllBytes(model));
        Assert.Equal(figures, File.ReadAllText(Path.Combine(_dir, "r.json")));
        Assert.Empty(Directory.GetFiles(_dir, "*.tmp", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task MergeJson_LockHeldByAnotherWriter_WaitsForItAndKeepsBothWritersKeys()
    {
        var writer = new ResultsWriter(_dir);
        writer.MergeJson("r", new JsonObject { ["first"] = 1 });
        string lockPath = Path.Combine(_dir, ".r.json.lock");
        Task merge;
        // Another process's merge is simulated by holding its lock the way it does (an unshared open of the lock file).
        using (var held = new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None))
        {
            using var started = new ManualResetEventSlim();
            // A thread of its own: a pool thread can take over half a second to start on a busy machine, which would hide
            // a merge that does not wait at all.
            merge = Task.Factory.StartNew(() =>
            {
                started.Set();
                writer.MergeJson("r", new JsonObject { ["second"] = 2 });
            }, TaskCreationOptions.LongRunning);
            Assert.True(started.Wait(TimeSpan.FromSeconds(30)));
            // 500 ms is ten of the writer's 50-ms polls, and an unhindered merge takes about 20 ms: had it not waited for
            // the lock, it would be long done.
            await Task.Delay(500);
            Assert.False(merge.IsCompleted, "The merge must wait while another writer holds the results file's lock.");
            File.WriteAllText(Path.Combine(_dir, "r.json"), "{\"first\": 1, \"other\": 3}");   // what the other writer merged meanwhile
        }

        await merge.WaitAsync(TimeSpan.FromSeconds(30));   // the merge must go on once the lock is released
        var merged = JsonNode.Parse(File.ReadAllText(Path.Combine(_dir, "r.json")))!.AsObject();
        Assert.Equal(3, (int)merged["other"]!);
        Assert.Equal(2, (int)merged["second"]!);
        Assert.Equal(1, (int)merged["first"]!);
    }

    [Fact]
    public void MergeJson_LockHeldPastTheTimeout_ThrowsNamingTheLockAndLeavesTheFile()
    {
        var writer = new ResultsWriter(_dir) { LockTimeout = TimeSpan.FromMilliseconds(200) };
        writer.MergeJson("r", new JsonObject { ["first"] = 1 });
        string lockPath = Path.Combine(_dir, ".r.json.lock");
        using var held = new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);

        var e = Assert.Throws<IOException>(() => writer.MergeJson("r", new JsonObject { ["second"] = 2 }));

        Assert.Contains($"expected to get its lock '{lockPath}' within 0.2 s, found it held by another process", e.Message);
        Assert.Null(JsonNode.Parse(File.ReadAllText(Path.Combine(_dir, "r.json")))!["second"]);
    }

    [Theory]
    [InlineData("../escape.png")]
    [InlineData("sub/plot.png")]
    [InlineData("sub\\plot.png")]
    [InlineData(".")]
    [InlineData("..")]
    public void PathFor_NotAPlainFileName_IsRejectedNamingIt(string fileName)
    {
        var writer = new ResultsWriter(_dir);

        var e = Assert.Throws<ArgumentException>(() => writer.PathFor(fileName));

        Assert.Equal("fileName", e.ParamName);
        Assert.Contains($"Expected a plain file name inside the results folder, found '{fileName}'.", e.Message);
    }

    [Fact]
    public void WriteMarkdown_TextWithOrWithoutFinalNewline_EndsWithExactlyOne()
    {
        var writer = new ResultsWriter(_dir);

        writer.WriteMarkdown("a", "## A\n\ntext\n");
        writer.WriteMarkdown("b", "## B");

        Assert.Equal("## A\n\ntext\n", File.ReadAllText(Path.Combine(_dir, "a.md")));
        Assert.Equal("## B\n", File.ReadAllText(Path.Combine(_dir, "b.md")));
        Assert.Equal([Path.Combine(_dir, "a.md"), Path.Combine(_dir, "b.md")], writer.WrittenSections);
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
