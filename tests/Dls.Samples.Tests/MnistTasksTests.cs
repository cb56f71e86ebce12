using Dls.Samples.Abstractions;

namespace Dls.Samples.Tests;

[Collection("TorchGlobalState")]
public sealed class MnistTasksTests
{
    [Fact]
    public async Task Baseline_PublishFails_ReportsItAndPublishesNoFigures()
    {
        // A folder where the trained baseline is to be published: training runs, publishing the model with its figures
        // fails, and neither the model nor mnist.json appears (they are written as one unit).
        using var dir = ScratchFolder.Create("dls-mnist-publish-");
        string blocked = Directory.CreateDirectory(dir.PathFor("mnist-baseline.bin")).FullName;

        var (code, stdout, stderr) = await HostRunner.RunAsync("run", "mnist-baseline", "--quick", "--out", dir.Path);

        Assert.Equal(1, code);
        Assert.Contains($"error: Cannot write '{blocked}': expected a file path, found a folder.", stderr);
        Assert.DoesNotContain("results in", stdout);
        Assert.False(File.Exists(dir.PathFor("mnist.json")), "no figures without the model they describe");
        Assert.False(File.Exists(dir.PathFor("mnist-baseline.bin.json")), "no sidecar without its weights");
        Assert.Empty(Directory.EnumerateFileSystemEntries(blocked));
    }
}
