using Dls.Samples.Abstractions;

namespace Dls.Samples.Tests;

/// <summary><c>run audio-demo</c>: the tour of Dls.Audio on signals it makes itself.</summary>
[Collection("TorchGlobalState")]
public sealed class AudioDemoTaskTests
{
    [Fact]
    public async Task Run_WithDataOption_WarnsThatTheFolderIsNotUsedAndStillWritesItsResults()
    {
        using var dir = ScratchFolder.Create("dls-audio-demo-data-");
        string data = Directory.CreateDirectory(dir.PathFor("data")).FullName, outDir = dir.PathFor("results");

        var (code, stdout, stderr) = await HostRunner.RunAsync("run", "audio-demo", "--quick", "--data", data, "--out", outDir);

        Assert.True(code == 0, stderr);
        // The demo reads no data: a --data folder is named in a warning rather than ignored without a word.
        Assert.Contains($"audio-demo makes its own signals and reads no data: --data {data} is not used.", stderr);
        Assert.Contains("warn: audio-demo", stderr);
        Assert.Equal($"audio-demo: results in {outDir}", stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Last().TrimEnd('\r'));
        Assert.True(File.Exists(Path.Combine(outDir, "audio_noisy.wav")));
        Assert.Empty(Directory.EnumerateFileSystemEntries(data));
    }

    [Fact]
    public async Task Run_WithoutQuick_MakesThreeSecondsOfAudio()
    {
        // The full demo differs from --quick only in the length of the signals it makes: 3 s instead of 1 s.
        using var dir = ScratchFolder.Create("dls-audio-demo-full-");
        string outDir = dir.PathFor("results");

        var (code, stdout, stderr) = await HostRunner.RunAsync("run", "audio-demo", "--out", outDir);

        Assert.True(code == 0, stderr);
        Assert.Equal($"audio-demo: results in {outDir}", stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Last().TrimEnd('\r'));
        foreach (string file in new[] { "audio_clean.wav", "audio_noisy.wav" })
        {
            var signal = Dls.Audio.IO.AudioFile.Load(Path.Combine(outDir, file));
            Assert.Equal((16000, 3 * 16000), (signal.SampleRate, signal.Length));
        }

        var json = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(outDir, "audio.json")))!;
        Assert.Equal(3.0, (double)json["audio_demo_duration_s"]!);
        Assert.Contains("A 3 s synthetic voiced signal", File.ReadAllText(Path.Combine(outDir, "audio-demo.md")));
    }
}
