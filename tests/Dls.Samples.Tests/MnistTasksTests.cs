using System.Buffers.Binary;
using System.Text.Json.Nodes;
using Dls.Models.Checkpoints;
using Dls.Models.Mnist;
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

    [Fact]
    public async Task Baseline_DataFolderMissing_FailsNamingTheOptionAndTheFolder()
    {
        using var dir = ScratchFolder.Create("dls-mnist-nodata-");
        string missing = dir.PathFor("no-such-folder");

        var (code, stdout, stderr) = await HostRunner.RunAsync("run", "mnist-baseline", "--quick", "--data", missing, "--out", dir.PathFor("out"));

        Assert.Equal(1, code);
        Assert.Equal($"error: --data: expected an existing folder, found nothing at '{missing}'.", stderr.Split('\n')[0].TrimEnd('\r'));
        Assert.Equal("", stdout);
        Assert.False(File.Exists(Path.Combine(dir.PathFor("out"), "mnist.json")));
    }

    [Fact]
    public async Task LowRankAndSvd_BaselineOfThisDataOrNot_ReusedWhenItFitsAndTrainedAgainOtherwise()
    {
        // Two small copies of the embedded images in two folders: a baseline made on one does not fit a task run on the other.
        using var dir = ScratchFolder.Create("dls-mnist-reuse-");
        string dataA = WriteSmallMnist(dir.PathFor("a"), trainImages: 256, testImages: 100);
        string dataB = WriteSmallMnist(dir.PathFor("b"), trainImages: 256, testImages: 100);
        string outDir = dir.PathFor("results"), baseline = Path.Combine(outDir, "mnist-baseline.bin");

        // 1. No baseline yet: mnist-lowrank trains and publishes one first, with the figures mnist-baseline would write.
        var (code, stdout, stderr) = await HostRunner.RunAsync("run", "mnist-lowrank", "--quick", "--data", dataA, "--out", outDir);
        Assert.True(code == 0, stderr);
        Assert.Contains($"No baseline for this mode/data at {baseline}; training it first (as mnist-baseline does).", stderr);
        Assert.Contains("mnist-lowrank: 215,370 parameters; ", stdout);
        JsonObject results = ReadJson(outDir);
        Assert.Equal(dataA, (string)results["data"]!["source"]!);
        Assert.Equal((256, 100), ((int)results["data"]!["train_images"]!, (int)results["data"]!["test_images"]!));
        Assert.Equal(5012490, (long)results["baseline_params"]!);
        Assert.Equal(215370, (long)results["lowrank20_params"]!);
        Assert.Null(results["svd"]);   // no mnist-svd run: the accuracy-vs-parameters plot has no SVD series
        Assert.Equal(dataA, (string)Checkpoint.ReadInfo(baseline).Metadata["data"]!);
        byte[] firstBaseline = File.ReadAllBytes(baseline);

        // 2. The same mode and data: the published baseline is used as it is (its training history read back from it).
        (code, stdout, stderr) = await HostRunner.RunAsync("run", "mnist-lowrank", "--quick", "--data", dataA, "--out", outDir);
        Assert.True(code == 0, stderr);
        Assert.Contains($"Using the baseline saved at {baseline}.", stderr);
        Assert.DoesNotContain("No baseline for this mode/data", stderr);
        Assert.Equal(firstBaseline, File.ReadAllBytes(baseline));
        Assert.Contains("| baseline (dense) | 1 | ", File.ReadAllText(Path.Combine(outDir, "mnist-lowrank.md")));

        // 3. Other data: the saved baseline does not fit mnist-svd, which trains and publishes one on that data.
        (code, stdout, stderr) = await HostRunner.RunAsync("run", "mnist-svd", "--quick", "--data", dataB, "--out", outDir);
        Assert.True(code == 0, stderr);
        Assert.Contains($"No baseline for this mode/data at {baseline}; training it first (as mnist-baseline does).", stderr);
        Assert.Equal(dataB, (string)Checkpoint.ReadInfo(baseline).Metadata["data"]!);
        results = ReadJson(outDir);
        Assert.Equal(dataB, (string)results["data"]!["source"]!);
        Assert.NotNull(results["svd"]!["full"]);
        Assert.Contains("mnist-svd D=full: 5,012,490 parameters, test accuracy ", stdout);
    }

    private static JsonObject ReadJson(string outDir) => JsonNode.Parse(File.ReadAllText(Path.Combine(outDir, "mnist.json")))!.AsObject();

    /// <summary>
    /// The first images of the embedded MNIST splits written as uncompressed IDX files into <paramref name="folder"/>:
    /// big-endian magic (0x0803 images, 0x0801 labels), the dimensions, then the bytes.
    /// </summary>
    private static string WriteSmallMnist(string folder, int trainImages, int testImages)
    {
        Directory.CreateDirectory(folder);
        MnistDataset embedded = MnistDataset.Load(SampleData.Resolve(null, "mnist"));
        foreach ((string prefix, MnistSplit split) in new[] { ("train", embedded.Train.Take(trainImages)), ("t10k", embedded.Test.Take(testImages)) })
        {
            File.WriteAllBytes(Path.Combine(folder, $"{prefix}-images-idx3-ubyte"), [.. Header(0x0803, split.Count, split.Rows, split.Columns), .. split.Pixels]);
            File.WriteAllBytes(Path.Combine(folder, $"{prefix}-labels-idx1-ubyte"), [.. Header(0x0801, split.Count), .. split.Labels]);
        }

        return folder;
    }

    private static byte[] Header(params int[] values)
    {
        var header = new byte[4 * values.Length];
        for (int i = 0; i < values.Length; i++)
            BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4 * i), values[i]);
        return header;
    }
}
