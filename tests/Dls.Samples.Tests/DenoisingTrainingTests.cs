using System.Text.Json.Nodes;
using Dls.Audio.IO;
using Dls.Models.Checkpoints;
using Dls.Samples.Abstractions;

namespace Dls.Samples.Tests;

/// <summary>
/// <c>run denoise-train --quick</c> on small data folders written here, one of each layout it reads: what it says it
/// trained and validated on, what it scores on when there is no test set, and the per-noise-type figures when the test
/// set names its noise types. Quick runs train tiny networks for a few batches, so the figures' levels are not checked,
/// only how they are put together.
/// </summary>
[Collection("TorchGlobalState")]
public sealed class DenoisingTrainingTests
{
    private const int Rate = 16000;

    [Fact]
    public async Task Train_CorpusWithSpeakersNoiseSourcesAndNoiseTypes_UsesThemAndReportsPerNoiseType()
    {
        // The shared corpus' shape: denoise/{train,test} pairs with train.csv (speakers) and test.csv (noise types), and
        // beside it speakers/ + speakers.csv (clean speech by split) and noise/train (noise sources).
        using var dir = ScratchFolder.Create("dls-denoise-corpus-");
        string data = dir.PathFor("denoise"), train = Path.Combine(data, "train"), test = Path.Combine(data, "test");
        string speakers = dir.PathFor("speakers"), noiseDir = Path.Combine(dir.Path, "noise", "train");
        // Four train speakers of two pairs each: sorted, every seventh from the fourth (index 3) is held out: 'd'.
        string[] trainSpeakers = ["a", "b", "c", "d"];
        var rows = new List<string> { "mixture,speaker_id" };
        for (int i = 0; i < 8; i++)
        {
            WriteHomeworkPair(train, "r", i);
            rows.Add($"trx{i:0000}.wav,{trainSpeakers[i / 2]}");
        }

        File.WriteAllLines(Path.Combine(data, "train.csv"), rows);
        WriteHomeworkPair(test, "e", 0);
        WriteHomeworkPair(test, "e", 1);
        File.WriteAllLines(Path.Combine(data, "test.csv"), ["mixture,noise_type", "tex0000.wav,hum", "tex0001.wav,hiss"]);
        // Clean utterances of a, c and d (none of b) and of the test speaker e, which must never reach training.
        File.WriteAllLines(dir.PathFor("speakers.csv"), ["speaker_id,split", "a,train", "b,train", "c,train", "d,train", "e,test"]);
        foreach (string speaker in new[] { "a", "c", "d", "e" })
            for (int k = 0; k < 2; k++)
                Save(Path.Combine(speakers, speaker, $"{speaker}_{k:000}.wav"), Tone(150 + (30 * k) + speaker[0]));
        Save(Path.Combine(noiseDir, "fan.wav"), Noise(seed: 99, amplitude: 0.05));
        string outDir = dir.PathFor("results");

        var (code, stdout, stderr) = await HostRunner.RunAsync("run", "denoise-train", "--quick", "--data", data, "--out", outDir);

        Assert.True(code == 0, stderr);
        JsonObject results = ReadJson(outDir);
        string description = (string)results["data"]!;
        // Training: the pairs of a, b and c, re-mixed with the utterances of the train speakers a and c (b has none; the held-out
        // d and the test speaker e are left out) and the noise source.
        Assert.Contains($"6 training pairs of '{train}' (re-mixed on the fly with augmentation plus 4 utterances of 3 train speakers of '{speakers}' " +
            $"and 1 noise sources of '{noiseDir}')", description);
        // Validation: d's two pairs and one mixture of each of d's two utterances; test: the two test pairs.
        Assert.Contains($"4 validation files of 1 held-out train speakers (d: their pairs and 2 mixtures of their utterances in '{speakers}')", description);
        Assert.Contains($"2 test pairs of '{test}' scored after training", description);
        Assert.Equal((4, 2, "test"), ((int)results["validation_files"]!, (int)results["test_files"]!, (string)results["scored_on"]!));
        // The oracle and every model per noise type of test.csv.
        Assert.Equal(["hiss", "hum"], results["oracle_irm_per_noise_type"]!.AsObject().Select(kv => kv.Key));
        foreach (string model in new[] { "fc-mask", "fc-mask-compressed", "gru-mask", "gru-mask-compressed" })
            Assert.Equal(["hiss", "hum"], results["models"]![model]!["test"]!["per_noise_type"]!.AsObject().Select(kv => kv.Key));
        string report = File.ReadAllText(Path.Combine(outDir, "denoise-train.md"));
        Assert.Contains("Test SNR improvement (dB) by noise type:", report);
        Assert.Contains("| model | hiss | hum |", report);
        Assert.Contains("| oracle IRM | ", report);
        Assert.Contains("## Speech denoising (denoise-train)", stdout);
    }

    [Fact]
    public async Task Train_CorpusOfTwoSpeakersWithoutNoiseSourcesOrNoiseTypes_HoldsOutTheSecondSpeaker()
    {
        // Two train speakers: holding out every seventh from the fourth would hold out none (and leave nothing to validate
        // on); the second is held out instead. Their clean speech is beside the corpus (none of the held-out b), but no
        // noise sources and no test.csv naming noise types.
        using var dir = ScratchFolder.Create("dls-denoise-corpus2-");
        string data = dir.PathFor("denoise"), train = Path.Combine(data, "train"), test = Path.Combine(data, "test");
        string speakers = dir.PathFor("speakers");
        for (int i = 0; i < 4; i++)
            WriteHomeworkPair(train, "r", i);
        File.WriteAllLines(Path.Combine(data, "train.csv"), ["mixture,speaker_id", "trx0000.wav,a", "trx0001.wav,a", "trx0002.wav,b", "trx0003.wav,b"]);
        WriteHomeworkPair(test, "e", 0);
        File.WriteAllLines(dir.PathFor("speakers.csv"), ["speaker_id,split", "a,train", "b,train"]);
        Save(Path.Combine(speakers, "a", "a_000.wav"), Tone(170));
        Save(Path.Combine(speakers, "a", "a_001.wav"), Tone(190));
        string outDir = dir.PathFor("results");

        var (code, _, stderr) = await HostRunner.RunAsync("run", "denoise-train", "--quick", "--data", data, "--out", outDir);

        Assert.True(code == 0, stderr);
        JsonObject results = ReadJson(outDir);
        string description = (string)results["data"]!;
        Assert.Contains($"2 training pairs of '{train}' (re-mixed on the fly with augmentation plus 2 utterances of 1 train speakers of '{speakers}')", description);
        Assert.Contains("2 validation files of 1 held-out train speakers (b: their pairs)", description);
        Assert.Equal((2, 1, "test"), ((int)results["validation_files"]!, (int)results["test_files"]!, (string)results["scored_on"]!));
        // A test set without noise types: figures for the whole test set only.
        Assert.False(results.ContainsKey("oracle_irm_per_noise_type"));
        Assert.NotNull(results["models"]!["gru-mask"]!["test"]);
        Assert.Null(results["models"]!["gru-mask"]!["test"]!["per_noise_type"]);
        string report = File.ReadAllText(Path.Combine(outDir, "denoise-train.md"));
        Assert.Contains("Test (scored after training only): 1 files", report);
        Assert.DoesNotContain("by noise type", report);
    }

    [Fact]
    public async Task Train_SinglePairedFolder_ValidatesOnItsLastTenthAndScoresOnValidation()
    {
        // One homework-layout folder, no test set: the last pair (a tenth of three, at least one) validates, and the
        // headline figures are the validation set's.
        using var dir = ScratchFolder.Create("dls-denoise-paired-");
        string data = dir.PathFor("pairs");
        for (int i = 0; i < 3; i++)
            WriteHomeworkPair(data, "r", i);
        string outDir = dir.PathFor("results");

        var (code, stdout, stderr) = await HostRunner.RunAsync("run", "denoise-train", "--quick", "--data", data, "--out", outDir);

        Assert.True(code == 0, stderr);
        JsonObject results = ReadJson(outDir);
        Assert.Equal($"2 training pairs and 1 validation pairs of '{data}' (no test set)", (string)results["data"]!);
        Assert.Equal((1, 0, "validation"), ((int)results["validation_files"]!, (int)results["test_files"]!, (string)results["scored_on"]!));
        Assert.Equal((double)results["validation_input_snr_db"]!, (double)results["input_snr_db"]!);
        Assert.False(results.ContainsKey("oracle_irm_per_noise_type"));
        foreach ((string name, JsonNode? model) in results["models"]!.AsObject())
        {
            Assert.Null(model!["test"]);
            Assert.Equal((double)model["validation"]!["snr_improvement_db"]!, (double)model["snr_improvement_db"]!);
            // The published checkpoint records its validation figure and no test figures.
            JsonObject metadata = Checkpoint.ReadInfo(Path.Combine(outDir, "denoise", "models", name + ".ckpt")).Metadata;
            Assert.Equal((double)model["validation"]!["snr_improvement_db"]!, (double)metadata["validation_snr_improvement_db"]!);
            Assert.False(metadata.ContainsKey("test_snr_improvement_db"), name);
        }

        // The table's test columns say there is nothing to show.
        string report = File.ReadAllText(Path.Combine(outDir, "denoise-train.md"));
        Assert.Matches(@"\| fc-mask \| [\d,]+ \| \d+ KiB \| \d+ \| -?\d+\.\d\d \| — \| — \| WaveformSnr \| \d+ \|", report);
        Assert.DoesNotContain("Test (scored after training only)", report);
        Assert.DoesNotContain("by noise type", report);
        Assert.Contains("## Speech denoising (denoise-train)", stdout);
    }

    [Fact]
    public async Task Train_CleanFolderOfOneUnnamedUtterance_ValidatesOnMixturesOfItWithoutTestSet()
    {
        // clean/ + noise/ with one utterance whose name names no speaker and no test/: nothing to hold out, so the one
        // utterance both trains and (mixed with its own seed) validates.
        using var dir = ScratchFolder.Create("dls-denoise-clean-");
        string data = dir.PathFor("data"), clean = Path.Combine(data, "clean"), noise = Path.Combine(data, "noise");
        Save(Path.Combine(clean, "voice.wav"), Tone(210));
        Save(Path.Combine(noise, "hiss.wav"), Noise(seed: 4, amplitude: 0.1));
        string outDir = dir.PathFor("results");

        var (code, _, stderr) = await HostRunner.RunAsync("run", "denoise-train", "--quick", "--data", data, "--out", outDir);

        Assert.True(code == 0, stderr);
        JsonObject results = ReadJson(outDir);
        string description = (string)results["data"]!;
        Assert.StartsWith($"1 clean utterances of '{clean}' mixed on the fly (augmented) with ", description);
        Assert.EndsWith(" at −5…10 dB SNR, 32 validation mixtures of 1 utterances, no test set", description);
        // Quick runs validate on the first four mixtures.
        Assert.Equal((4, 0, "validation"), ((int)results["validation_files"]!, (int)results["test_files"]!, (string)results["scored_on"]!));
    }

    [Fact]
    public async Task Train_CleanFolderOfOneSpeakersFewUtterances_HoldsOutTheLastUtterance()
    {
        // One speaker with three utterances: fewer than seven, so the last one (not every seventh, which would be none)
        // is kept for the validation mixtures and the other two train.
        using var dir = ScratchFolder.Create("dls-denoise-clean3-");
        string data = dir.PathFor("data"), clean = Path.Combine(data, "clean"), noise = Path.Combine(data, "noise");
        for (int k = 0; k < 3; k++)
            Save(Path.Combine(clean, $"spk_{k:000}.wav"), Tone(180 + (25 * k)));
        Save(Path.Combine(noise, "hiss.wav"), Noise(seed: 8, amplitude: 0.1));
        string outDir = dir.PathFor("results");

        var (code, _, stderr) = await HostRunner.RunAsync("run", "denoise-train", "--quick", "--data", data, "--out", outDir);

        Assert.True(code == 0, stderr);
        string description = (string)ReadJson(outDir)["data"]!;
        Assert.StartsWith($"2 clean utterances of '{clean}' mixed on the fly (augmented) with ", description);
        Assert.EndsWith(" at −5…10 dB SNR, 32 validation mixtures of 1 utterances, no test set", description);
    }

    private static JsonObject ReadJson(string outDir) => JsonNode.Parse(File.ReadAllText(Path.Combine(outDir, "denoise.json")))!.AsObject();

    /// <summary>t{set}x/t{set}s/t{set}n{index}.wav: mixture, clean and noise of one pair (one second).</summary>
    private static void WriteHomeworkPair(string folder, string set, int index)
    {
        float[] clean = Tone(180 + (40 * index)), noise = Noise(index, 0.05);
        Save(Path.Combine(folder, $"t{set}x{index:0000}.wav"), clean.Zip(noise, (c, n) => c + n).ToArray());
        Save(Path.Combine(folder, $"t{set}s{index:0000}.wav"), clean);
        Save(Path.Combine(folder, $"t{set}n{index:0000}.wav"), noise);
    }

    /// <summary>One second of a tone with a slow amplitude swell (speech-like energy changes).</summary>
    private static float[] Tone(double frequency) =>
        Enumerable.Range(0, Rate).Select(i => (float)(0.3 * Math.Sin(2 * Math.PI * frequency * i / Rate) * (0.6 + (0.4 * Math.Sin(2 * Math.PI * 3 * i / Rate))))).ToArray();

    private static float[] Noise(int seed, double amplitude)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, Rate).Select(_ => (float)(amplitude * (rng.NextDouble() - 0.5))).ToArray();
    }

    private static void Save(string path, float[] samples)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        WavFile.Write(path, new WavData(Rate, [samples], WavSampleFormat.Float32));
    }
}
