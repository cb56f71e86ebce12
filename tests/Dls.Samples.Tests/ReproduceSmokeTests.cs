using System.Text.Json.Nodes;

namespace Dls.Samples.Tests;

/// <summary>
/// The main job end to end, shortened: `reproduce --quick` must run every plugin's tasks on the embedded data and
/// write the report, the per-area JSON files with the keys the issues name, and plots. The figures of a quick run
/// are smoke-test values, so only their presence and sanity are checked, not their level.
/// </summary>
[Collection("TorchGlobalState")]
public sealed class ReproduceSmokeTests : IDisposable
{
    private readonly string _out = Path.Combine(Path.GetTempPath(), "dls-reproduce-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_out))
        {
            Directory.Delete(_out, recursive: true);
        }
    }

    [Fact]
    public async Task List_FindsEveryPlugin()
    {
        var (code, stdout, _) = await HostRunner.RunAsync("list");
        Assert.Equal(0, code);
        foreach (string plugin in new[] { "mnist", "audio", "denoise", "speaker" })
        {
            Assert.Contains($"{plugin} — ", stdout);
        }
    }

    [Fact]
    public async Task ReproduceQuick_WritesReportJsonAndPlots()
    {
        var (code, stdout, stderr) = await HostRunner.RunAsync("reproduce", "--quick", "--out", _out, "--threads", "2");
        Assert.True(code == 0, $"reproduce --quick failed ({code}).\nstdout:\n{stdout}\nstderr:\n{stderr}");

        string report = File.ReadAllText(Path.Combine(_out, "report.md"));
        Assert.Contains("| mnist-baseline | ok |", report);
        Assert.DoesNotContain("failed", report);
        // Every task's Markdown section is in the report, whatever file name the task chose for it.
        foreach (string heading in new[] { "## MNIST baseline", "## Speech denoising", "## Speaker verification", "## Audio toolkit demo" })
        {
            Assert.Contains(heading, report);
        }

        JsonObject mnist = ReadJson("mnist.json");
        Assert.Equal(5012490, (long)mnist["baseline_params"]!);
        Assert.Equal(215370, (long)mnist["lowrank20_params"]!);
        foreach (string key in new[] { "baseline_test_acc", "lowrank20_finetuned_test_acc", "lowrank20_scratch_test_acc" })
        {
            double accuracy = (double)mnist[key]!;
            Assert.InRange(accuracy, 0.0, 1.0);
        }

        Assert.NotNull(mnist["svd"]);
        Assert.NotEmpty(Directory.GetFiles(_out, "*.png"));
        foreach (string plot in new[] { "speaker_det.png", "speaker_scores.png", "speaker_compression.png", "speaker_training.png" })
        {
            Assert.True(new FileInfo(Path.Combine(_out, plot)).Length > 0, $"expected a non-empty {plot}");
        }

        // A second run in which the MNIST tasks fail (their results file is no JSON object): the report says so and keeps
        // their sections of the first run, marked, instead of dropping them.
        File.WriteAllText(Path.Combine(_out, "mnist.json"), "not json");
        byte[] baseline = File.ReadAllBytes(Path.Combine(_out, "mnist-baseline.bin"));
        (code, stdout, stderr) = await HostRunner.RunAsync("reproduce", "--quick", "--out", _out, "--threads", "2");
        Assert.True(code == 1, $"expected exit code 1 with failed tasks, found {code}.\nstderr:\n{stderr}");
        report = File.ReadAllText(Path.Combine(_out, "report.md"));
        Assert.Contains("| mnist-baseline | failed: ", report);
        Assert.Contains("> **mnist-baseline failed in this run** (failed: ", report);
        Assert.Contains("the section below is from an earlier run", report);
        Assert.Contains("## MNIST baseline", report);
        Assert.Contains("| speaker-train | ok |", report);
        Assert.Contains("Cannot merge results into", report);
        // The damaged results file stopped the MNIST tasks before any training: the earlier baseline model is untouched.
        Assert.Equal(baseline, File.ReadAllBytes(Path.Combine(_out, "mnist-baseline.bin")));
    }

    private JsonObject ReadJson(string name)
    {
        string path = Path.Combine(_out, name);
        Assert.True(File.Exists(path), $"expected {path}; files: {string.Join(", ", Directory.GetFiles(_out).Select(Path.GetFileName))}");
        return JsonNode.Parse(File.ReadAllText(path))!.AsObject();
    }
}
